using PoIP.Core.Hashing;
using PoIP.Inference.Gguf;

namespace PoIP.Gateway;

/// <summary>A model the gateway offers: the name clients send, its PoIP id and its chat template.</summary>
/// <param name="Name">The name clients put in <c>model</c> (listed by <c>GET /v1/models</c>); the hex model id is accepted too.</param>
/// <param name="Id">The model's content hash (what requests and receipts name).</param>
/// <param name="ChatTemplate">The GGUF <c>tokenizer.chat_template</c>, or null (chat then uses the plain fallback, docs/gateway.md).</param>
public sealed record GatewayModel(string Name, ModelId Id, string? ChatTemplate = null)
{
    /// <summary>Describes a GGUF file: its id (SHA-256 of the file), its name (file name without extension) and its chat template.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="Core.Errors.PoIPDecodeException">The file is not a valid GGUF file.</exception>
    public static async Task<GatewayModel> FromGgufAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var id = await ModelId.FromFileAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        string? template;
        using (var gguf = GgufFile.Open(path))
        {
            template = gguf.Metadata.TryGetValue("tokenizer.chat_template", out var value) && value.Value is string s && s.Length > 0 ? s : null;
        }

        return new GatewayModel(Path.GetFileNameWithoutExtension(path), id, template);
    }
}
