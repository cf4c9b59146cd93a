namespace PoIP.Economics.Embedded.Operations;

/// <summary>Decodes journal entries back into operations.</summary>
internal static class OperationCodec
{
    public static byte[] Encode(LedgerOperation operation)
    {
        var writer = new ArgsWriter();
        operation.Write(writer);
        return writer.ToArray();
    }

    /// <exception cref="InvalidDataException">The entry is not a known, well-formed operation.</exception>
    public static LedgerOperation Decode(OperationKind kind, byte[] args)
    {
        var reader = new ArgsReader(args);
        LedgerOperation operation = kind switch
        {
            OperationKind.Genesis => GenesisOperation.Read(reader),
            OperationKind.CreateAccount => CreateAccountOperation.Read(reader),
            OperationKind.Mint => MintOperation.Read(reader),
            OperationKind.Transfer => TransferOperation.Read(reader),
            OperationKind.Withdraw => WithdrawOperation.Read(reader),
            OperationKind.Stake => StakeOperation.Read(reader),
            OperationKind.RequestUnbond => RequestUnbondOperation.Read(reader),
            OperationKind.WithdrawUnbonded => WithdrawUnbondedOperation.Read(reader),
            OperationKind.RegisterValidator => RegisterValidatorOperation.Read(reader),
            OperationKind.OpenEscrow => OpenEscrowOperation.Read(reader),
            OperationKind.OpenEscrowInGroup => OpenEscrowOperation.ReadInGroup(reader),
            OperationKind.SettleEscrow => LegacySettleEscrowOperation.Read(reader),
            OperationKind.SettleEscrowWithReceipt => SettleEscrowOperation.Read(reader),
            OperationKind.RefundEscrow => RefundEscrowOperation.Read(reader),
            OperationKind.Slash => SlashOperation.Read(reader),
            OperationKind.Propose => ProposeOperation.Read(reader),
            OperationKind.Vote => VoteOperation.Read(reader),
            OperationKind.ExecuteProposal => ExecuteProposalOperation.Read(reader),
            OperationKind.SubmitVerdict => SubmitVerdictOperation.Read(reader),
            OperationKind.Appeal => AppealOperation.Read(reader),
            OperationKind.FinalizeCase => FinalizeCaseOperation.Read(reader),
            OperationKind.CommitPlant => CommitPlantOperation.Read(reader),
            OperationKind.RevealPlant => RevealPlantOperation.Read(reader),
            _ => throw new InvalidDataException($"Unknown journal operation kind {(int)kind}."),
        };
        reader.End();
        return operation;
    }
}
