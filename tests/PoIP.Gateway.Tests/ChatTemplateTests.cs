using PoIP.Gateway.Chat;

namespace PoIP.Gateway.Tests;

public sealed class ChatTemplateTests
{
    [Fact]
    public void Render_NoTemplate_SingleUserMessageIsThePromptAsIs()
    {
        var template = ChatTemplate.FromGguf(null);

        Assert.Equal("plain", template.Name);
        Assert.Equal("Once upon a time", template.Render([new ChatTurn(ChatRole.User, "Once upon a time")]));
    }

    [Fact]
    public void Render_NoTemplate_ConversationIsRoleLinesEndingWithAssistant()
    {
        string prompt = ChatTemplate.FromGguf(string.Empty).Render([new ChatTurn(ChatRole.System, "Be kind."), new ChatTurn(ChatRole.User, "Hi"), new ChatTurn(ChatRole.Assistant, "Hello"), new ChatTurn(ChatRole.User, "Story?")]);

        Assert.Equal("System: Be kind.\nUser: Hi\nAssistant: Hello\nUser: Story?\nAssistant:", prompt);
    }

    [Fact]
    public void Render_ChatMlTemplate_UsesImStartMarkers()
    {
        var template = ChatTemplate.FromGguf("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}");

        Assert.Equal("chatml", template.Name);
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n", template.Render([new ChatTurn(ChatRole.System, "S"), new ChatTurn(ChatRole.User, "U")]));
    }

    [Fact]
    public void Render_GemmaTemplate_FoldsSystemIntoFirstUserTurn()
    {
        var template = ChatTemplate.FromGguf("{{ '<start_of_turn>' + role + '\n' }}");

        Assert.Equal("<start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\n", template.Render([new ChatTurn(ChatRole.System, "S"), new ChatTurn(ChatRole.User, "U")]));
    }

    [Fact]
    public void FromGguf_UnrecognisedTemplate_FallsBackToPlain()
    {
        Assert.Equal(PromptFormat.Plain, ChatTemplate.FromGguf("{{ messages | tojson }}").Format);
    }
}
