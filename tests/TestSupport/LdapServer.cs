using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.TestSupport;

/// <summary>
/// A private OpenLDAP slapd for one test: its own config, database and loopback
/// port in a temp directory, never the machine's /etc/ldap/slapd.d or its
/// service. It holds dc=berth,dc=test with users alice and bob and two groups:
/// developers (groupOfNames, alice) and operators (groupOfUniqueNames, bob).
/// Where slapd or the ldap-utils are missing the test is skipped, or fails under CI=true.
/// </summary>
public sealed class LdapServer : IAsyncDisposable
{
    public const string Suffix = "dc=berth,dc=test";
    public const string AdminDn = "cn=admin," + Suffix;
    public const string UserDnTemplate = "uid={0},ou=people," + Suffix;
    public const string GroupSearchBase = "ou=groups," + Suffix;
    public const string DevelopersGroup = "cn=developers," + GroupSearchBase;
    public const string OperatorsGroup = "cn=operators," + GroupSearchBase;
    public const string AlicePassword = "alice-password-1";
    public const string BobPassword = "bob-password-1";

    private const string Slapd = "/usr/sbin/slapd";
    private const string LdapAdd = "/usr/bin/ldapadd";
    private const string LdapModify = "/usr/bin/ldapmodify";
    private const string SchemaDirectory = "/etc/ldap/schema";
    // Debian and Ubuntu build the mdb backend as a loadable module here; where it is built in, no module is loaded.
    private const string DebianModuleDirectory = "/usr/lib/ldap";
    private const string AdminPassword = "ldap-admin-password";
    private static readonly string[] Schemas = ["core", "cosine", "inetorgperson", "nis"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly TempDirectory _root;
    private readonly Process _process;
    private readonly StringBuilder _output;

    private LdapServer(TempDirectory root, Process process, StringBuilder output, int port)
    {
        _root = root;
        _process = process;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    /// <summary>ldap://127.0.0.1:port, the form Auth:Ldap:Url takes.</summary>
    public string Url => $"ldap://127.0.0.1:{Port}";

    /// <summary>The configuration that points the Auth module at this directory.</summary>
    public string[] AuthArguments =>
    [
        "--Auth:Ldap:Enabled", "true", "--Auth:Ldap:Url", Url,
        "--Auth:Ldap:UserDnTemplate", UserDnTemplate, "--Auth:Ldap:GroupSearchBase", GroupSearchBase,
    ];

    public static string UserDn(string user) => string.Format(System.Globalization.CultureInfo.InvariantCulture, UserDnTemplate, user);

    /// <summary>Starts slapd with the test directory loaded, or skips (fails under CI=true) when it is not installed.</summary>
    public static async Task<LdapServer> StartAsync()
    {
        var missing = new[] { Slapd, LdapAdd, LdapModify }.Where(p => !File.Exists(p))
            .Concat(Schemas.Select(s => Path.Combine(SchemaDirectory, s + ".schema")).Where(p => !File.Exists(p))).ToList();
        RequiredServer.Require(missing.Count == 0, $"OpenLDAP is not installed (apt-get install slapd ldap-utils): missing {string.Join(", ", missing)}");

        var root = new TempDirectory("berth-ldap");
        try
        {
            Directory.CreateDirectory(root.Combine("db"));
            var config = root.Combine("slapd.conf");
            await File.WriteAllTextAsync(config, Config(root));
            // A free port is only free until someone takes it: if slapd loses that race it exits, and another port is tried.
            for (var attempt = 1; ; attempt++)
            {
                var port = LoopbackPorts.Free();
                var output = new StringBuilder();
                var process = StartSlapd(config, port, output);
                var server = new LdapServer(root, process, output, port);
                if (await LoopbackPorts.WaitUntilListeningAsync(port, StartTimeout, process))
                {
                    try
                    {
                        await server.ModifyAsync(LdapAdd, SeedLdif());
                        return server;
                    }
                    catch
                    {
                        await server.StopAsync();
                        throw;
                    }
                }
                await server.StopAsync();
                if (attempt == 3) throw new InvalidOperationException($"slapd did not answer on 127.0.0.1:{port} within {StartTimeout.TotalSeconds} s:\n{Snapshot(output)}");
            }
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>Adds <paramref name="user"/> to a group (member= for groupOfNames, uniqueMember= for groupOfUniqueNames).</summary>
    public Task AddToGroupAsync(string user, string groupDn, string attribute = "member") =>
        ModifyAsync(LdapModify, $"dn: {groupDn}\nchangetype: modify\nadd: {attribute}\n{attribute}: {UserDn(user)}\n");

    /// <summary>Removes <paramref name="user"/> from a group.</summary>
    public Task RemoveFromGroupAsync(string user, string groupDn, string attribute = "member") =>
        ModifyAsync(LdapModify, $"dn: {groupDn}\nchangetype: modify\ndelete: {attribute}\n{attribute}: {UserDn(user)}\n");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _root.Dispose();
    }

    private async Task StopAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // A process that ignores SIGKILL for 10 s is the kernel's problem; the temp dir is removed regardless.
        }
        _process.Dispose();
    }

    private static string Config(TempDirectory root)
    {
        var config = new StringBuilder();
        foreach (var schema in Schemas) config.AppendLine($"include {Path.Combine(SchemaDirectory, schema + ".schema")}");
        config.AppendLine($"pidfile {root.Combine("slapd.pid")}");
        config.AppendLine($"argsfile {root.Combine("slapd.args")}");
        if (File.Exists(Path.Combine(DebianModuleDirectory, "back_mdb.so")))
        {
            config.AppendLine($"modulepath {DebianModuleDirectory}");
            config.AppendLine("moduleload back_mdb");
        }
        config.AppendLine("database mdb");
        config.AppendLine("maxsize 16777216");
        config.AppendLine($"suffix \"{Suffix}\"");
        config.AppendLine($"rootdn \"{AdminDn}\"");
        config.AppendLine($"rootpw {AdminPassword}");
        config.AppendLine($"directory {root.Combine("db")}");
        // As a real directory is set up: passwords are only usable to bind, and only bound users read entries.
        // So Berth must bind as the user before it can read the e-mail and groups, as it would in production.
        config.AppendLine("access to attrs=userPassword by self write by anonymous auth by * none");
        config.AppendLine("access to * by users read by * none");
        return config.ToString();
    }

    /// <summary>
    /// groupOfNames and groupOfUniqueNames must have a member, so each group also
    /// lists the admin entry: a test can then remove its last real user.
    /// Passwords are in clear text; slapd compares them on a simple bind.
    /// </summary>
    private static string SeedLdif() => $"""
        dn: {Suffix}
        objectClass: dcObject
        objectClass: organization
        dc: berth
        o: Berth tests

        dn: ou=people,{Suffix}
        objectClass: organizationalUnit
        ou: people

        dn: {GroupSearchBase}
        objectClass: organizationalUnit
        ou: groups

        dn: {UserDn("alice")}
        objectClass: inetOrgPerson
        uid: alice
        cn: Alice
        sn: Alice
        mail: alice@berth.test
        userPassword: {AlicePassword}

        dn: {UserDn("bob")}
        objectClass: inetOrgPerson
        uid: bob
        cn: Bob
        sn: Bob
        userPassword: {BobPassword}

        dn: {DevelopersGroup}
        objectClass: groupOfNames
        cn: developers
        member: {AdminDn}
        member: {UserDn("alice")}

        dn: {OperatorsGroup}
        objectClass: groupOfUniqueNames
        cn: operators
        uniqueMember: {AdminDn}
        uniqueMember: {UserDn("bob")}

        """;

    private static Process StartSlapd(string config, int port, StringBuilder output)
    {
        // -d 0 keeps slapd in the foreground as our child (no daemonizing, no pid to chase), logging only errors to stderr.
        var start = new ProcessStartInfo(Slapd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", $"ldap://127.0.0.1:{port}/", "-f", config, "-d", "0" }) start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs ldapadd or ldapmodify as the rootdn with <paramref name="ldif"/> on stdin; a failure throws with what it printed.</summary>
    private async Task ModifyAsync(string tool, string ldif)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword }) start.ArgumentList.Add(argument);
        // The machine's ldap.conf / ldaprc (TLS, default URI, base) must not change what the test does.
        start.Environment["LDAPNOINIT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(ldif);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} did not finish within {StartTimeout.TotalSeconds} s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} exited {process.ExitCode}:\n{await stdout}\n{await stderr}\nslapd:\n{Snapshot(_output)}\nLDIF:\n{ldif}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null) return;
        lock (output)
        {
            // Enough to diagnose a failed start; a chatty slapd must not grow without bound.
            if (output.Length < 64 * 1024) output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output) return output.ToString();
    }
}
