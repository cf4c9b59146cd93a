using System.Text;
using Microsoft.Extensions.AI;
using PoIP.Core.Money;
using PoIP.Hosting.Client;
using PoIP.Gateway.Ai;

namespace PoIP.Gateway.Tests;

/// <summary>The IChatClient directly over PoIPClient (no HTTP) on the real network.</summary>
[Collection(GatewayNetworkGroup.Name)]
public sealed class PoIPChatClientTests(GatewayFixture fixture)
{
    [Fact]
    public async Task GetResponse_AndStreaming_SameSeedSameTextWithReceipt()
    {
        using IChatClient chat = new PoIPChatClient(fixture.Network.Client, fixture.Model, TokenAmount.ParseTokens("0.001"));
        var options = new ChatOptions { MaxOutputTokens = 12, Seed = 21, Temperature = 0.7f };

        var response = await chat.GetResponseAsync("The sun was shining and the birds", options);
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        UsageDetails? usage = null;
        await foreach (var update in chat.GetStreamingResponseAsync("The sun was shining and the birds", options))
        {
            streamed.Append(update.Text);
            finish = update.FinishReason ?? finish;
            usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
        }

        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(response.Text, streamed.ToString());
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.Equal(12, response.Usage?.OutputTokenCount);
        Assert.Equal(12, usage?.OutputTokenCount);
        Assert.Equal(64, ((string)response.AdditionalProperties!["poip.receipt_id"]!).Length);
        Assert.Contains((string)response.AdditionalProperties["poip.audit"]!, new[] { "pending", "valid" }); // the audit runs after the answer
        Assert.Equal(ClientAuditStatus.Valid, (await ((ClientAnswer)response.RawRepresentation!).Audit).Status);
    }

    [Fact]
    public async Task GetResponse_ToolRole_ArgumentException()
    {
        using IChatClient chat = new PoIPChatClient(fixture.Network.Client, fixture.Model, TokenAmount.ParseTokens("0.001"));

        await Assert.ThrowsAsync<ArgumentException>(() => chat.GetResponseAsync([new ChatMessage(ChatRole.Tool, "x")]));
    }
}
