// Counts the public types (top-level public plus nested public inside public) of each assembly given,
// by reading metadata only (nothing is loaded or run).
// usage: dotnet run eng/public-types.cs -- path/A.dll path/B.dll ...
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

foreach (string path in args)
{
    using var stream = File.OpenRead(path);
    using var pe = new PEReader(stream);
    var reader = pe.GetMetadataReader();
    int count = 0;
    foreach (var handle in reader.TypeDefinitions)
    {
        if (IsVisible(reader, reader.GetTypeDefinition(handle)))
        {
            count++;
        }
    }

    Console.WriteLine($"{Path.GetFileNameWithoutExtension(path)}\t{count}\t{new FileInfo(path).Length}");
}

static bool IsVisible(MetadataReader reader, TypeDefinition type)
{
    var visibility = type.Attributes & TypeAttributes.VisibilityMask;
    if (visibility == TypeAttributes.Public)
    {
        return true;
    }

    if (visibility is TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem)
    {
        return IsVisible(reader, reader.GetTypeDefinition(type.GetDeclaringType()));
    }

    return false;
}
