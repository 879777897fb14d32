using Berth.Access;
using Berth.Auth.Tokens;

namespace Berth.Auth.Tests;

public sealed class ScopeParserTests
{
    [Fact]
    public void Parses_repository_and_catalog_scopes_from_several_parameters()
    {
        var scopes = ScopeParser.Parse(["repository:acme/web:pull,push", "registry:catalog:* repository:acme/api:delete"]);
        Assert.Equal(3, scopes.Count);
        Assert.Equal("repository:acme/web:pull,push", scopes[0].ToString());
        Assert.Equal("registry:catalog:*", scopes[1].ToString());
        Assert.True(scopes[2].Allows(ResourceScope.Delete));
        Assert.False(scopes[2].Allows(ResourceScope.Pull));
    }

    [Fact]
    public void The_same_repository_twice_merges_its_actions()
    {
        var scope = Assert.Single(ScopeParser.Parse(["repository:a/b:pull", "repository:a/b:push"]));
        Assert.Equal(["pull", "push"], scope.Actions.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Star_grants_every_action()
    {
        var scope = Assert.Single(ScopeParser.Parse(["repository:a:*"]));
        Assert.True(scope.Allows(ResourceScope.Pull) && scope.Allows(ResourceScope.Push) && scope.Allows(ResourceScope.Delete));
    }

    [Theory]
    [InlineData("repository:../etc/passwd:pull")]
    [InlineData("repository:a/../b:pull")]
    [InlineData("repository:a//b:pull")]
    [InlineData("repository:/a:pull")]
    [InlineData("repository:*:pull")]
    [InlineData("repository:a/*:pull")]
    [InlineData("repository:Acme/Web:pull")]
    [InlineData("repository:a:b:pull")]
    [InlineData("repository:a:")]
    [InlineData("repository:a:admin")]
    [InlineData("repository::pull")]
    [InlineData("repository:pull")]
    [InlineData("registry:catalog:pull")]
    [InlineData("registry:other:*")]
    [InlineData("user:admin:*")]
    [InlineData(":a:pull")]
    [InlineData("repository:a%2Fb:pull")]
    [InlineData("repository:a\n:pull")]
    public void Malformed_or_unknown_scopes_are_dropped_not_errors(string scope)
    {
        Assert.Empty(ScopeParser.Parse([scope]));
    }

    [Fact]
    public void Unknown_actions_are_dropped_and_known_ones_kept()
    {
        var scope = Assert.Single(ScopeParser.Parse(["repository:a:pull,admin,sudo"]));
        Assert.Equal(["pull"], scope.Actions);
    }

    [Fact]
    public void Oversized_input_is_refused_cleanly()
    {
        Assert.Empty(ScopeParser.Parse([$"repository:{new string('a', 600)}:pull"]));
        var many = string.Join(' ', Enumerable.Range(0, 1000).Select(i => $"repository:r{i}:pull"));
        Assert.Equal(ScopeParser.MaxScopes, ScopeParser.Parse([many]).Count);
    }
}
