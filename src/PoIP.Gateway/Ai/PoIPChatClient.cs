using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using PoIP.Core.Engine;
using PoIP.Core.Money;
using PoIP.Core.Protocol;
using PoIP.Gateway.Chat;
using PoIP.Gateway.Streaming;
using PoIP.Hosting.Client;
using MeaiRole = Microsoft.Extensions.AI.ChatRole;

namespace PoIP.Gateway.Ai;

/// <summary>
/// Microsoft.Extensions.AI's <see cref="IChatClient"/> directly over a <see cref="PoIPClient"/>, for
/// .NET hosts that want the network without HTTP. Messages become the prompt through the model's chat
/// template (as the gateway does) before the request is signed; <see cref="ChatOptions"/> maps
/// <c>MaxOutputTokens</c>, <c>Temperature</c>, <c>TopP</c>, <c>TopK</c>, <c>Seed</c> and
/// <c>StopSequences</c>. Each response carries the receipt id, request id, node id and audit state in
/// <see cref="ChatResponse.AdditionalProperties"/> (<c>poip.receipt_id</c>, …) and the
/// <see cref="ClientAnswer"/> as its raw representation (the audit runs after the answer: <c>poip.audit</c>
/// is <c>pending</c> until it ends; await <see cref="ClientAnswer.Audit"/> for its outcome).
/// </summary>
public sealed class PoIPChatClient : IChatClient
{
    private readonly PoIPClient _client;
    private readonly GatewayModel _model;
    private readonly TokenAmount _maxPricePerToken;
    private readonly int _defaultMaxTokens;
    private readonly ChatTemplate _template;

    /// <summary>Creates the chat client.</summary>
    /// <param name="client">The PoIP client (routing, escrow, receipts).</param>
    /// <param name="model">The model asked for.</param>
    /// <param name="maxPricePerToken">Most paid per generated token (the escrowed cap is this × max tokens).</param>
    /// <param name="defaultMaxTokens">Tokens generated when the options give none.</param>
    public PoIPChatClient(PoIPClient client, GatewayModel model, TokenAmount maxPricePerToken, int defaultMaxTokens = 48)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultMaxTokens, 1);
        _client = client;
        _model = model;
        _maxPricePerToken = maxPricePerToken;
        _defaultMaxTokens = defaultMaxTokens;
        _template = ChatTemplate.FromGguf(model.ChatTemplate);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A message has a role other than system, user or assistant, or an option is out of range.</exception>
    /// <exception cref="NodeFailedException">No node answered.</exception>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (prompt, ask) = Prepare(messages, options);
        var answer = await _client.AskAsync(prompt, ask, onText: null, cancellationToken).ConfigureAwait(false);
        var filter = new StopFilter(ask.Sampling.StopSequences);
        string text = filter.Push(answer.Text) + filter.Flush();
        var response = new ChatResponse(new ChatMessage(MeaiRole.Assistant, text))
        {
            ResponseId = answer.Receipt.Message.RequestId.ToString(),
            ModelId = _model.Name,
            FinishReason = Finish(answer, filter),
            Usage = Usage(answer),
            RawRepresentation = answer,
            AdditionalProperties = Properties(answer),
        };
        return response;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A message has a role other than system, user or assistant, or an option is out of range.</exception>
    /// <exception cref="NodeFailedException">No node answered.</exception>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (prompt, ask) = Prepare(messages, options);
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var answerTask = _client.AskAsync(prompt, ask, piece => pieces.Writer.TryWrite(piece), cancellationToken);
        _ = answerTask.ContinueWith(_ => pieces.Writer.TryComplete(), TaskScheduler.Default);
        var filter = new StopFilter(ask.Sampling.StopSequences);
        await foreach (string piece in pieces.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            string released = filter.Push(piece);
            if (released.Length > 0)
            {
                yield return new ChatResponseUpdate(MeaiRole.Assistant, released) { ModelId = _model.Name };
            }
        }

        var answer = await answerTask.ConfigureAwait(false);
        string rest = filter.Flush();
        yield return new ChatResponseUpdate(MeaiRole.Assistant, [new TextContent(rest), new UsageContent(Usage(answer))])
        {
            ModelId = _model.Name,
            ResponseId = answer.Receipt.Message.RequestId.ToString(),
            FinishReason = Finish(answer, filter),
            RawRepresentation = answer,
            AdditionalProperties = Properties(answer),
        };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("poip", null, _model.Name)
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_client) ? _client
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The PoIPClient belongs to the caller.
    }

    private (string Prompt, AskOptions Ask) Prepare(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<ChatTurn>();
        foreach (var message in messages)
        {
            var role = message.Role == MeaiRole.System ? Chat.ChatRole.System
                : message.Role == MeaiRole.User ? Chat.ChatRole.User
                : message.Role == MeaiRole.Assistant ? Chat.ChatRole.Assistant
                : throw new ArgumentException($"Unsupported role '{message.Role}' (system, user, assistant).", nameof(messages));
            turns.Add(new ChatTurn(role, message.Text));
        }

        if (turns.Count == 0)
        {
            throw new ArgumentException("At least one message is required.", nameof(messages));
        }

        var defaults = new SamplingParameters();
        var sampling = new SamplingParameters
        {
            Temperature = options?.Temperature ?? defaults.Temperature,
            TopP = options?.TopP ?? defaults.TopP,
            TopK = options?.TopK ?? defaults.TopK,
            StopSequences = options?.StopSequences is { } stops ? [.. stops] : [],
        };
        if (sampling.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        int maxTokens = options?.MaxOutputTokens ?? _defaultMaxTokens;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1, nameof(options));
        ulong seed = options?.Seed is { } s ? unchecked((ulong)s) : BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        return (_template.Render(turns), new AskOptions(_model.Id, sampling, seed, maxTokens, _maxPricePerToken.Multiply((ulong)maxTokens)));
    }

    private static ChatFinishReason Finish(ClientAnswer answer, StopFilter filter) =>
        !filter.Stopped && answer.Receipt.Message.StopReason is StopReason.MaxTokens or StopReason.ContextFull ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails Usage(ClientAnswer answer) => new()
    {
        InputTokenCount = answer.Receipt.Message.Timings.PromptTokens,
        OutputTokenCount = answer.Receipt.Message.OutputTokenCount,
        TotalTokenCount = answer.Receipt.Message.Timings.PromptTokens + answer.Receipt.Message.OutputTokenCount,
    };

    private static AdditionalPropertiesDictionary Properties(ClientAnswer answer)
    {
        var (audit, detail) = AuditStatus.Now(answer);
        return new AdditionalPropertiesDictionary
        {
            ["poip.receipt_id"] = answer.Receipt.Hash.ToString(),
            ["poip.request_id"] = answer.Receipt.Message.RequestId.ToString(),
            ["poip.node_id"] = answer.Receipt.Message.NodeId.ToString(),
            ["poip.price"] = answer.Receipt.Message.Price.ToString(),
            ["poip.audit"] = audit,
            ["poip.audit_detail"] = detail,
        };
    }
}
