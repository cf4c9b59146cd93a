#pragma warning disable OPENAI001 // ChatCompletionOptions.Seed is marked experimental by the OpenAI library
using System.ClientModel;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;
using OpenAI;
using OpenAI.Chat;

namespace PoIP.Gateway.Tests;

/// <summary>The official OpenAI .NET client and Microsoft.Extensions.AI's IChatClient over it, unchanged, against the gateway over loopback HTTP.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class OpenAIClientTests(GatewayFixture fixture)
{
    private ChatClient Chat() => new(fixture.Model.Name, new ApiKeyCredential("not-checked"), new OpenAIClientOptions { Endpoint = new Uri(fixture.BaseAddress, "v1") });

    [Fact]
    public async Task CompleteChat_NonStreaming_ReturnsTextUsageAndPoIPObject()
    {
        var result = await Chat().CompleteChatAsync([new UserChatMessage("Once upon a time")], new ChatCompletionOptions { MaxOutputTokenCount = 12, Seed = 7 });
        var completion = result.Value;

        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        using var raw = JsonDocument.Parse(result.GetRawResponse().Content);
        var poip = raw.RootElement.GetProperty("poip");
        Assert.Equal(fixture.Model.Id.ToString(), poip.GetProperty("model_id").GetString());
        Assert.Equal(64, poip.GetProperty("receipt_id").GetString()!.Length);
        Assert.Equal(7UL, poip.GetProperty("seed").GetUInt64());
        Assert.Contains(poip.GetProperty("audit").GetString(), new[] { "pending", "valid" }); // audited after the answer (every answer here)
        Assert.Contains(poip.GetProperty("node_id").GetString(), fixture.Network.Nodes.Select(n => n.Id.ToString()));
        Assert.Equal(poip.GetProperty("request_id").GetString(), result.GetRawResponse().Headers.TryGetValue("x-poip-request-id", out string? header) ? header : null);
    }

    [Fact]
    public async Task CompleteChatStreaming_SameSeed_SameTextAsNonStreamingAndUsageAtEnd()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 20, Seed = 12345, Temperature = 0.9f, TopP = 0.9f };
        var whole = (await Chat().CompleteChatAsync([new UserChatMessage("The cat sat on the mat and")], options)).Value.Content[0].Text;

        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        int updates = 0;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("The cat sat on the mat and")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(whole, streamed.ToString());
        Assert.True(updates > 3, $"only {updates} updates: the answer was not streamed");
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(20, usage.OutputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_SameSeedTwice_SameText_OtherSeed_OtherText()
    {
        async Task<string> Ask(long seed) => (await Chat().CompleteChatAsync([new UserChatMessage("Tom had a red ball. One day,")], new ChatCompletionOptions { MaxOutputTokenCount = 24, Seed = seed, Temperature = 1.0f })).Value.Content[0].Text;

        string first = await Ask(99);
        Assert.Equal(first, await Ask(99));
        Assert.NotEqual(first, await Ask(100));
    }

    [Fact]
    public async Task CompleteChat_StopString_TextEndsBeforeItStreamedOrNot()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 40, Seed = 5 };
        string full = (await Chat().CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value.Content[0].Text;
        Assert.True(full.Length > 20, $"answer too short to cut: '{full}'");
        string stop = full.Substring(full.Length / 2, 3);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        options.StopSequences.Add(stop);

        var whole = (await Chat().CompleteChatAsync([new UserChatMessage("Once upon a time")], options)).Value;
        Assert.Equal(expected, whole.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);

        var streamed = new StringBuilder();
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("Once upon a time")], options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
                Assert.DoesNotContain(stop, streamed.ToString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(expected, streamed.ToString());
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_Throws404()
    {
        var client = new ChatClient("no-such-model", new ApiKeyCredential("not-checked"), new OpenAIClientOptions { Endpoint = new Uri(fixture.BaseAddress, "v1") });

        var ex = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, ex.Status);
        Assert.Contains("no-such-model", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IChatClient_OverOpenAIClient_AnswersStreamedAndNot()
    {
        IChatClient chat = Chat().AsIChatClient();
        var options = new ChatOptions { MaxOutputTokens = 10, Seed = 3 };

        var response = await chat.GetResponseAsync("Once upon a time", options);
        var streamed = new StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync("Once upon a time", options))
        {
            streamed.Append(update.Text);
        }

        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(response.Text, streamed.ToString());
        Assert.Equal(10, response.Usage?.OutputTokenCount);
    }
}
