using Npgsql;

namespace Parley.Data.Tests;

public sealed class DatabaseUrlTests
{
    private static NpgsqlConnectionStringBuilder Postgres(string url)
    {
        Assert.True(DatabaseUrl.TryParse(url, "/data", 30, out var target, out var error), error);
        Assert.Equal(DatabaseProvider.Postgres, target.Provider);
        Assert.False(target.IsEmbedded);
        return new NpgsqlConnectionStringBuilder(target.ConnectionString);
    }

    [Theory]
    [InlineData("postgres://parley:secret@db.internal:6543/meetings")]
    [InlineData("postgresql://parley:secret@db.internal:6543/meetings")]
    [InlineData("POSTGRES://parley:secret@db.internal:6543/meetings")]
    public void Both_schemes_of_the_seeds_are_accepted(string url)
    {
        var cs = Postgres(url);

        Assert.Equal("db.internal", cs.Host);
        Assert.Equal(6543, cs.Port);
        Assert.Equal("meetings", cs.Database);
        Assert.Equal("parley", cs.Username);
        Assert.Equal("secret", cs.Password);
    }

    [Fact]
    public void Percent_encoded_credentials_are_decoded_and_the_default_port_is_5432()
    {
        var cs = Postgres("postgres://us%40er:p%3Ass%2Fw%40rd@db/parley");

        Assert.Equal("us@er", cs.Username);
        Assert.Equal("p:ss/w@rd", cs.Password);
        Assert.Equal(5432, cs.Port);
    }

    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("prefer", SslMode.Prefer)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    public void Sslmode_in_the_query_is_honoured(string mode, SslMode expected)
    {
        Assert.Equal(expected, Postgres($"postgres://u:p@db:5432/parley?sslmode={mode}").SslMode);
    }

    [Fact]
    public void Several_libpq_parameters_are_mapped()
    {
        var cs = Postgres("postgres://u:p@db/parley?sslmode=require&application_name=parley-api&connect_timeout=7");

        Assert.Equal("parley-api", cs.ApplicationName);
        Assert.Equal(7, cs.Timeout);
    }

    [Theory]
    [InlineData("mysql://u:p@db/parley")]
    [InlineData("postgres://u:p@db")]
    [InlineData("postgres://u:p@db/")]
    [InlineData("postgres://u:p@db/parley?sslmode=sometimes")]
    [InlineData("postgres://u:p@db/parley?no_such_parameter=1")]
    [InlineData("not a url at all")]
    [InlineData("sqlite:")]
    public void Malformed_urls_are_refused_with_what_is_expected(string url)
    {
        Assert.False(DatabaseUrl.TryParse(url, "/data", 30, out _, out var error));
        Assert.Contains("expected", error, StringComparison.Ordinal);
    }

    [Fact]
    public void No_url_means_embedded_sqlite_in_the_data_directory()
    {
        Assert.True(DatabaseUrl.TryParse(null, "/srv/parley", 30, out var target, out _));

        Assert.True(target.IsEmbedded);
        Assert.Contains("Data Source=/srv/parley/parley.db", target.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_sqlite_path_is_accepted()
    {
        Assert.True(DatabaseUrl.TryParse("sqlite:///var/lib/parley/x.db", "/data", 30, out var target, out _));

        Assert.Equal(DatabaseProvider.Sqlite, target.Provider);
        Assert.Contains("Data Source=/var/lib/parley/x.db", target.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_never_contains_the_password()
    {
        Assert.True(DatabaseUrl.TryParse("postgres://u:topsecret@db:5432/parley", "/data", 30, out var target, out _));

        Assert.DoesNotContain("topsecret", target.Description, StringComparison.Ordinal);
        Assert.Equal("PostgreSQL db:5432/parley", target.Description);
    }
}
