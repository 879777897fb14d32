using Berth.Data;
using Berth.TestSupport;
using Npgsql;

namespace Berth.Registry.Tests.Unit;

/// <summary>
/// Module databases on PostgreSQL let Npgsql prepare the statements a connection
/// repeats and skip resetting connections they return to the pool, unless the
/// operator's connection string says otherwise.
/// </summary>
public sealed class PostgresPoolDefaultsTests
{
    [Fact]
    public void A_connection_string_without_a_choice_gets_the_defaults()
    {
        var tuned = new NpgsqlConnectionStringBuilder(ModuleDatabaseSetup.WithPoolDefaults("Host=db;Database=berth_registry;Username=berth"));

        Assert.Equal(64, tuned.MaxAutoPrepare);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal("db", tuned.Host);
        Assert.Equal("berth_registry", tuned.Database);
        Assert.Equal("berth", tuned.Username);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=10", 10)]
    [InlineData("Host=db;max auto prepare=200", 200)]
    [InlineData("Host=db;Auto Prepare Min Usages=3", 64)]
    public void The_operators_preparation_choice_stands_and_other_keywords_are_no_choice(string connectionString, int expected)
    {
        var tuned = new NpgsqlConnectionStringBuilder(ModuleDatabaseSetup.WithPoolDefaults(connectionString));

        Assert.Equal(expected, tuned.MaxAutoPrepare);
    }

    [Theory]
    [InlineData("Host=db;No Reset On Close=false")]
    [InlineData("Host=db;NoResetOnClose=false")]
    public void The_operators_reset_choice_stands(string connectionString)
    {
        var tuned = new NpgsqlConnectionStringBuilder(ModuleDatabaseSetup.WithPoolDefaults(connectionString));

        Assert.False(tuned.NoResetOnClose);
    }

    [SkippableFact]
    public async Task A_repeated_statement_runs_prepared_on_a_real_server()
    {
        await using var database = await TemporaryPostgresDatabase.CreateAsync(RequiredServer.Postgres());
        await using var connection = new NpgsqlConnection(ModuleDatabaseSetup.WithPoolDefaults(database.ConnectionString));
        await connection.OpenAsync();

        for (var i = 0; i < 10; i++)
        {
            await using var repeated = new NpgsqlCommand("SELECT $1::int + 1", connection) { Parameters = { new() { Value = i } } };
            Assert.Equal(i + 1, await repeated.ExecuteScalarAsync());
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int + 1%'", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }
}
