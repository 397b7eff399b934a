using Xunit;

namespace Groundwork.Grains.Tests;

public sealed class ResourceKeyTests
{
    [Theory]
    [InlineData("acme/list/groceries")]
    [InlineData("a/list/x")]
    [InlineData("acme-2/list/Weekly_plan.v2")]
    public void Well_formed_keys_parse_and_print_back(string text)
    {
        var key = ResourceKey.Parse(text);
        Assert.Equal(text, key.ToString());
        Assert.Equal(text.Split('/')[0], key.Tenant);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("acme/list", "three parts")]
    [InlineData("acme/list/x/y", "three parts")]
    [InlineData("Acme/list/x", "tenant id")]
    [InlineData("-acme/list/x", "tenant id")]
    [InlineData("acme/chat/x", "unknown resource kind")]
    [InlineData("acme/list/", "name")]
    [InlineData("acme/list/.hidden", "name")]
    [InlineData("acme/list/has space", "name")]
    public void Malformed_keys_are_refused_with_the_reason(string text, string reason)
    {
        var error = Assert.Throws<InvalidResourceKeyException>(() => ResourceKey.Parse(text));
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(text, error.Key);
    }

    [Fact]
    public void Overlong_keys_are_refused()
    {
        Assert.False(ResourceKey.TryParse("a/list/" + new string('n', 300), out _));
    }
}
