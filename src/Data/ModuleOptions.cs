using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Berth.Data;

/// <summary>Where a module keeps its database: what <see cref="ModuleDatabaseSetup"/> needs of a module's options.</summary>
public interface IModuleDatabaseOptions
{
    /// <summary>Where the embedded default keeps the module's files (its SQLite database among them).</summary>
    string DataDirectory { get; }

    /// <summary>"sqlite" or "postgres".</summary>
    string DatabaseProvider { get; }

    string ResolveConnectionString();
}

/// <summary>How every module binds its configuration section.</summary>
public static class ModuleOptions
{
    /// <summary>
    /// Binds <paramref name="sectionName"/> to <typeparamref name="T"/>, validated (data annotations)
    /// at start, and returns the values as configured now, for registrations that depend on them.
    /// </summary>
    public static T AddModuleOptions<T>(this IHostApplicationBuilder builder, string sectionName)
        where T : class, new()
    {
        builder.Services.AddOptions<T>().Bind(builder.Configuration.GetSection(sectionName)).ValidateDataAnnotations().ValidateOnStart();
        return builder.Configuration.GetSection(sectionName).Get<T>() ?? new T();
    }
}
