using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PoIP.Gateway.Streaming;

namespace PoIP.Gateway.Tests;

public sealed class StopFilterTests
{
    [Fact]
    public void Push_StopSplitAcrossPieces_NeverReleasesAPartOfIt()
    {
        var filter = new StopFilter(["END"]);

        Assert.Equal("abc", filter.Push("abcE"));
        Assert.Equal(string.Empty, filter.Push("N"));
        Assert.Equal(string.Empty, filter.Push("Dxyz"));
        Assert.True(filter.Stopped);
        Assert.Equal(string.Empty, filter.Flush());
    }

    [Fact]
    public void Flush_NoStop_ReleasesHeldPrefix()
    {
        var filter = new StopFilter(["END"]);

        Assert.Equal("ab", filter.Push("abEN"));
        Assert.Equal("EN", filter.Flush());
        Assert.False(filter.Stopped);
    }

    /// <summary>However the text is cut into pieces, what is released is the text up to the first stop string, and no prefix of the output ever ends inside one.</summary>
    [Property(MaxTest = 300)]
    public Property Push_AnySplit_ReleasesExactlyTheTextBeforeTheFirstStop()
    {
        var gen = from text in Gen.Elements('a', 'b', 'c', 'x').ArrayOf().Select(c => new string(c))
                  from cuts in Gen.Choose(0, 20).ArrayOf()
                  select (text, cuts);
        return Prop.ForAll(gen.ToArbitrary(), t =>
        {
            string[] stops = ["abc", "xx"];
            var filter = new StopFilter(stops);
            var released = new System.Text.StringBuilder();
            int at = 0;
            foreach (int cut in t.cuts.Append(t.text.Length))
            {
                int end = Math.Min(t.text.Length, at + cut);
                released.Append(filter.Push(t.text[at..end]));
                at = end;
                if (stops.Any(s => released.ToString().Contains(s, StringComparison.Ordinal)))
                {
                    return false;
                }
            }

            released.Append(filter.Flush());
            int first = stops.Select(s => t.text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(t.text.Length).Min();
            return released.ToString() == t.text[..first] && filter.Stopped == (first < t.text.Length);
        });
    }
}
