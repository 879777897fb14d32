using Berth.Server;
using Microsoft.Extensions.Configuration;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// The Server's data directory lies beneath its content root by default, so a
/// configuration file watched for changes would have every database and blob write
/// wake the watcher of the whole tree.
/// </summary>
public sealed class ConfigurationWatchTests
{
    [Fact]
    public async Task The_server_watches_no_configuration_file()
    {
        await using var app = ServerApp.Build(["--Registry:DataDirectory", Path.GetTempPath()]);
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();

        Assert.NotEmpty(files); // appsettings.json and the environment's file are still read
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched"));
    }

    [Fact]
    public async Task An_operator_can_still_ask_for_reloading()
    {
        await using var app = ServerApp.Build(["--Registry:DataDirectory", Path.GetTempPath(), "--hostBuilder:reloadConfigOnChange", "true"]);
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();

        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.True(file.Source.ReloadOnChange));
    }
}
