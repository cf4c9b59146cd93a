namespace PoIP.Gateway.Requests;

/// <summary>An error in OpenAI's shape: HTTP status, <c>message</c>, <c>type</c>, <c>param</c> (the field) and <c>code</c>.</summary>
internal sealed record ApiError(int Status, string Message, string? Param, string Code, string Type = "invalid_request_error")
{
    public static ApiError Field(string param, string message, string code = "invalid_value") => new(400, message, param, code);

    public static ApiError UnknownModel(string model) => new(404, $"The model '{Shorten(model)}' does not exist or is not served by this gateway (GET /v1/models lists them).", "model", "model_not_found");

    public static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
