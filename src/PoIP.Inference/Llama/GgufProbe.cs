using System.Text;
using PoIP.Core.Errors;

namespace PoIP.Inference.Llama;

/// <summary>
/// Reads just enough of a GGUF header to check the file before llama.cpp sees it: magic, version,
/// and the <c>general.architecture</c> string. Bounded: at most 4096 keys, strings of 1 MiB, 64 MiB scanned.
/// </summary>
internal static class GgufProbe
{
    private const long MaxScan = 64L << 20;
    private const ulong MaxString = 1 << 20;
    private const ulong MaxKeys = 4096;

    /// <summary>Returns the model's architecture, or null when the header has no such key.</summary>
    /// <exception cref="EngineException"><see cref="EngineErrorCodes.ModelCorrupt"/>.</exception>
    public static string? ReadArchitecture(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            Span<byte> magic = stackalloc byte[4];
            if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || !magic.SequenceEqual("GGUF"u8))
            {
                throw Corrupt(path, "not a GGUF file (no GGUF magic in its first bytes)");
            }

            uint version = reader.ReadUInt32();
            if (version is < 2 or > 3)
            {
                throw Corrupt(path, $"GGUF version {version}; llama.cpp {NativeBackend.LlamaCppBuild} reads versions 2 and 3");
            }

            reader.ReadUInt64(); // tensor count
            ulong keys = reader.ReadUInt64();
            if (keys > MaxKeys)
            {
                throw Corrupt(path, $"{keys} metadata keys (limit {MaxKeys})");
            }

            for (ulong i = 0; i < keys && stream.Position < MaxScan; i++)
            {
                string key = ReadString(reader, path);
                uint type = reader.ReadUInt32();
                if (key == "general.architecture")
                {
                    return type == 8 ? ReadString(reader, path) : throw Corrupt(path, "general.architecture is not a string");
                }

                Skip(reader, type, path, depth: 0);
            }

            return null;
        }
        catch (EndOfStreamException ex)
        {
            throw new EngineException(EngineErrorCodes.ModelCorrupt, $"model file {path} ends inside its GGUF header (truncated).", innerException: ex);
        }
        catch (IOException ex)
        {
            throw new EngineException(EngineErrorCodes.ModelCorrupt, $"model file {path} cannot be read: {ex.Message}", innerException: ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new EngineException(EngineErrorCodes.ModelCorrupt, $"model file {path} cannot be read: {ex.Message}", innerException: ex);
        }
    }

    private static string ReadString(BinaryReader reader, string path)
    {
        ulong length = reader.ReadUInt64();
        if (length > MaxString)
        {
            throw Corrupt(path, $"a string of {length} bytes in the header (limit {MaxString})");
        }

        byte[] bytes = reader.ReadBytes((int)length);
        return bytes.Length == (int)length ? Encoding.UTF8.GetString(bytes) : throw new EndOfStreamException();
    }

    private static void Skip(BinaryReader reader, uint type, string path, int depth)
    {
        switch (type)
        {
            case 0 or 1 or 7:
                reader.BaseStream.Seek(1, SeekOrigin.Current);
                break;
            case 2 or 3:
                reader.BaseStream.Seek(2, SeekOrigin.Current);
                break;
            case 4 or 5 or 6:
                reader.BaseStream.Seek(4, SeekOrigin.Current);
                break;
            case 10 or 11 or 12:
                reader.BaseStream.Seek(8, SeekOrigin.Current);
                break;
            case 8:
                ulong length = reader.ReadUInt64();
                if (length > MaxString)
                {
                    throw Corrupt(path, $"a string of {length} bytes in the header (limit {MaxString})");
                }

                reader.BaseStream.Seek((long)length, SeekOrigin.Current);
                break;
            case 9 when depth == 0:
                uint elementType = reader.ReadUInt32();
                ulong count = reader.ReadUInt64();
                if (count > 1UL << 24)
                {
                    throw Corrupt(path, $"an array of {count} elements in the header");
                }

                for (ulong i = 0; i < count; i++)
                {
                    Skip(reader, elementType, path, depth + 1);
                }

                break;
            default:
                throw Corrupt(path, $"unknown metadata value type {type}");
        }

        if (reader.BaseStream.Position > reader.BaseStream.Length)
        {
            throw new EndOfStreamException();
        }
    }

    private static EngineException Corrupt(string path, string why) =>
        new(EngineErrorCodes.ModelCorrupt, $"model file {path} is not a valid GGUF file: {why}.");
}
