using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Embedded.Operations;

/// <summary>Records a planter's commitment to a planted receipt (validator accountability).</summary>
internal sealed class CommitPlantOperation(PeerId planter, Sha256Digest commitment) : LedgerOperation
{
    public override OperationKind Kind => OperationKind.CommitPlant;

    public static CommitPlantOperation Read(ArgsReader reader)
    {
        var planter = reader.Peer();
        return Sha256Digest.TryRead(reader.Bytes(), out var digest) ? new(planter, digest) : throw new InvalidDataException("Journal commitment is not 32 bytes.");
    }

    public override void Write(ArgsWriter writer) => writer.Peer(planter).Bytes(commitment.ToArray());

    public override EconomicResult Apply(LedgerTransaction ledger) => DisputeCases.CommitPlant(ledger, planter, commitment);
}
