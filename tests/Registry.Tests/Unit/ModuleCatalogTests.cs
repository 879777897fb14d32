using Berth.Server;

namespace Berth.Registry.Tests.Unit;

/// <summary>--services: "all" (the default) runs every module, a list runs those, an unknown name is refused with the choices.</summary>
public sealed class ModuleCatalogTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("all")]
    [InlineData("ALL")]
    [InlineData("registry,all")]
    public void All_or_nothing_given_runs_every_module(string? services)
    {
        Assert.Equal(ModuleCatalog.Known, ModuleCatalog.Select(services));
    }

    [Fact]
    public void A_list_runs_just_those_modules()
    {
        Assert.Equal(["registry"], ModuleCatalog.Select(" registry ").Select(m => m.Name));
    }

    [Fact]
    public void An_unknown_module_is_refused_with_the_choices()
    {
        var error = Assert.Throws<ArgumentException>(() => ModuleCatalog.Select("registry,bogus"));
        Assert.Contains("'bogus'", error.Message);
        Assert.Contains("registry", error.Message);
    }
}
