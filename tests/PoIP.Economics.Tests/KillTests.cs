using System.Diagnostics;
using PoIP.Core.Economics;
using PoIP.Economics.Embedded;

namespace PoIP.Economics.Tests;

/// <summary>
/// Durability under SIGKILL: a child process (PoIP.Economics.KillHost) writes from four concurrent
/// writers and prints every committed operation id; the test kills it mid-stream, reopens the
/// database and checks that every confirmed operation is there, money is conserved and the
/// journal rebuilds the tables. Three rounds on the same database.
/// </summary>
public sealed class KillTests
{
    private const int ConfirmationsPerRound = 400;

    [Fact]
    public async Task KillDuringHeavyWrites_EveryConfirmedOperationSurvives_NothingHalfApplied()
    {
        using var database = new TempDatabase();
        var confirmed = new List<OperationId>();
        for (int round = 0; round < 3; round++)
        {
            confirmed.AddRange(await RunAndKillAsync(database.Path, ConfirmationsPerRound));

            using var ledger = EmbeddedStakeManager.Open(new EmbeddedEconomicsOptions { DatabasePath = database.Path });
            foreach (var id in confirmed)
            {
                Assert.True(await ledger.WasAppliedAsync(id), $"round {round}: confirmed operation {id} was lost");
            }

            var totals = await ledger.GetTotalsAsync();
            Assert.True(totals.IsConserved, $"round {round}: {totals}");
            var check = await ledger.VerifyJournalAsync();
            Assert.True(check.Matches, check.Difference);
            Assert.True(check.Operations > confirmed.Count, "the journal holds genesis plus every confirmed operation");
        }
    }

    private static async Task<List<OperationId>> RunAndKillAsync(string databasePath, int confirmations)
    {
        string host = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "PoIP.Economics.KillHost.exe" : "PoIP.Economics.KillHost");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(databasePath);
        start.ArgumentList.Add("4");
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start the kill host");
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ids = new List<OperationId>();
        try
        {
            while (ids.Count < confirmations)
            {
                string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    Assert.Fail($"the kill host exited early ({ids.Count} confirmations): {await stderr}");
                }

                ids.Add(Parse(line) ?? throw new InvalidDataException("unexpected line: " + line));
            }
        }
        finally
        {
            // Process.Kill is SIGKILL on Unix: no finalizers, no flush, no SQLite close.
            child.Kill(entireProcessTree: true);
        }

        // Lines the child wrote before it died were committed too; a torn last line is not a confirmation.
        while (await child.StandardOutput.ReadLineAsync(timeout.Token) is { } rest)
        {
            if (Parse(rest) is { } id)
            {
                ids.Add(id);
            }
        }

        await child.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, child.ExitCode);
        return ids;
    }

    private static OperationId? Parse(string line) =>
        line.Length == 35 && line.StartsWith("OK ", StringComparison.Ordinal) && Guid.TryParseExact(line.AsSpan(3), "N", out var guid) ? new OperationId(guid) : null;
}
