using PoIP.Core.Economics;
using PoIP.Core.Identity;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Reveals a planted receipt; its case is convicted at once (validator accountability).</summary>
internal sealed class RevealPlantOperation(PeerId planter, ReadOnlyMemory<byte> salt, ReadOnlyMemory<byte> requestEnvelope, ReadOnlyMemory<byte> receiptEnvelope, IReadOnlyList<ReadOnlyMemory<byte>> verdicts) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.RevealPlant;

    /// <summary>Most verdicts one reveal carries.</summary>
    public const int MaxVerdicts = 64;

    public static RevealPlantOperation Read(ArgsReader reader)
    {
        var planter = reader.Peer();
        byte[] salt = reader.Bytes();
        byte[] request = reader.Bytes();
        byte[] receipt = reader.Bytes();
        uint count = reader.U32();
        if (count > MaxVerdicts)
        {
            throw new InvalidDataException("Journal plant reveal carries too many verdicts.");
        }

        var verdicts = new List<ReadOnlyMemory<byte>>();
        for (uint i = 0; i < count; i++)
        {
            verdicts.Add(reader.Bytes());
        }

        return new(planter, salt, request, receipt, verdicts);
    }

    public override void Write(ArgsWriter writer)
    {
        writer.Peer(planter).Bytes(salt.Span).Bytes(requestEnvelope.Span).Bytes(receiptEnvelope.Span).U32((uint)verdicts.Count);
        foreach (var verdict in verdicts)
        {
            writer.Bytes(verdict.Span);
        }
    }

    public override EconomicResult Apply(LedgerTransaction ledger) =>
        verdicts.Count > MaxVerdicts
            ? new EconomicResult(EconomicStatus.InvalidEvidence, $"a reveal carries at most {MaxVerdicts} verdicts.")
            : DisputeCases.RevealPlant(ledger, planter, salt, requestEnvelope, receiptEnvelope, verdicts);
}
