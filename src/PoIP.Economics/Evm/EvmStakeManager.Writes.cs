using PoIP.Core.Economics;
using PoIP.Core.Hashing;
using PoIP.Core.Identity;
using PoIP.Core.Money;
using PoIP.Core.Proofs;
using PoIP.Core.Protocol;
using PoIP.Economics.Slashing;

namespace PoIP.Economics.Evm;

public sealed partial class EvmStakeManager
{
    // ---- writes ----

    /// <inheritdoc />
    public Task<EconomicResult> StakeAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new StakeFunction { Op = Op(operation), Amount = Wei(amount) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RequestUnbondAsync(OperationId operation, PeerId node, TokenAmount amount, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new RequestUnbondFunction { Op = Op(operation), Amount = Wei(amount) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> WithdrawUnbondedAsync(OperationId operation, PeerId node, CancellationToken cancellationToken = default) =>
        SendAsAsync(node, new WithdrawUnbondedFunction { Op = Op(operation) }, 0, cancellationToken);

    /// <inheritdoc />
    public Task<EconomicResult> RegisterValidatorAsync(OperationId operation, PeerId validator, CancellationToken cancellationToken = default) =>
        SendAsAsync(validator, new RegisterValidatorFunction { Op = Op(operation) }, 0, cancellationToken);

    /// <inheritdoc />
    public async Task<EconomicResult> OpenEscrowAsync(OperationId operation, RequestId request, PeerId client, PeerId node, TokenAmount priceCap, RequestId? group = null, CancellationToken cancellationToken = default)
    {
        if (await AddressOfAsync(node, cancellationToken).ConfigureAwait(false) is not { } nodeAddress)
        {
            return new EconomicResult(EconomicStatus.UnknownAccount, "the node has no known chain account (not bound on chain, or not confirmed yet).");
        }

        var function = new OpenEscrowFunction
        {
            Op = Op(operation),
            RequestId = request.Digest.ToArray(),
            Group = group is { } g ? g.Digest.ToArray() : new byte[32],
            Node = nodeAddress,
            Cap = Wei(priceCap),
        };
        return await SendAsAsync(client, function, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> SettleEscrowAsync(OperationId operation, SignedMessage<InferenceRequest> request, SignedMessage<InferenceReceipt> receipt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(receipt);
        var requestId = new RequestId(request.Hash);
        var escrow = await GetEscrowAsync(requestId, cancellationToken).ConfigureAwait(false);
        if (escrow is not { State: EscrowState.Open })
        {
            return new EconomicResult(EconomicStatus.UnknownEscrow, escrow is null ? "no escrow for this request." : $"the escrow is {escrow.State}.");
        }

        // Off chain, exactly as the embedded ledger: the Ed25519 envelopes bind the payment to the request.
        string? mismatch =
            request.Signer != escrow.Client || request.Message.ClientId != escrow.Client ? "the request is not signed by the escrow's client."
            : receipt.Signer != escrow.Node || receipt.Message.NodeId != escrow.Node ? "the receipt is not signed by the escrowed node."
            : receipt.Message.RequestId != requestId ? "the receipt answers another request."
            : null;
        if (mismatch is not null)
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, mismatch);
        }

        if (receipt.Message.Price > request.Message.PriceCap || receipt.Message.Price > escrow.PriceCap)
        {
            return new EconomicResult(EconomicStatus.InvalidAmount, "the receipt's price exceeds the signed or escrowed cap.");
        }

        // On chain: the node's account signs the EIP-712 receipt (only the node's own manager, or a
        // dev key ring, holds that key); anyone may submit it.
        if (!_accounts.TryGetKey(escrow.Node, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, "this process holds no chain key of the node to sign the EIP-712 receipt.");
        }

        var chainReceipt = ChainReceipt(receipt, nodeKey.GetPublicAddress());
        return await _chain.SendAsync(nodeKey, new SettleFunction { Op = Op(operation), Receipt = chainReceipt, Signature = Sign(nodeKey, _digests.Receipt(chainReceipt)) }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Settles many escrows of one node in one transaction with one EIP-712 signature over the whole
    /// batch (all or nothing). Each pair is checked off chain as in <see cref="SettleEscrowAsync"/>.
    /// </summary>
    public async Task<EconomicResult> SettleBatchAsync(OperationId operation, PeerId node, IReadOnlyList<(SignedMessage<InferenceRequest> Request, SignedMessage<InferenceReceipt> Receipt)> settlements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        if (settlements.Count == 0)
        {
            return new EconomicResult(EconomicStatus.InvalidAmount, "an empty batch.");
        }

        if (!_accounts.TryGetKey(node, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidReceipt, "this process holds no chain key of the node to sign the batch.");
        }

        var receipts = new List<ReceiptStruct>(settlements.Count);
        foreach (var (request, receipt) in settlements)
        {
            if (receipt.Signer != node || receipt.Message.NodeId != node || receipt.Message.RequestId != new RequestId(request.Hash)
                || request.Signer != request.Message.ClientId || receipt.Message.Price > request.Message.PriceCap)
            {
                return new EconomicResult(EconomicStatus.InvalidReceipt, "a receipt of the batch is not the node's for its request, or exceeds the signed cap.");
            }

            receipts.Add(ChainReceipt(receipt, nodeKey.GetPublicAddress()));
        }

        string address = nodeKey.GetPublicAddress();
        return await _chain.SendAsync(nodeKey, new SettleBatchFunction { Op = Op(operation), Node = address, Receipts = receipts, Signature = Sign(nodeKey, _digests.ReceiptBatch(address, receipts)) }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> RefundEscrowAsync(OperationId operation, RequestId request, CancellationToken cancellationToken = default)
    {
        var escrow = await GetEscrowAsync(request, cancellationToken).ConfigureAwait(false);
        if (escrow is not { State: EscrowState.Open })
        {
            return new EconomicResult(EconomicStatus.UnknownEscrow, "no open escrow for this request.");
        }

        // Anyone may ask; sent from the client's account when held here, else from the node's.
        var sender = _accounts.TryGetKey(escrow.Client, out _) ? escrow.Client : escrow.Node;
        return await SendAsAsync(sender, new RefundEscrowFunction { Op = Op(operation), RequestId = request.Digest.ToArray() }, 0, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EconomicResult> SlashAsync(OperationId operation, SignedMessage<Evidence> evidence, PeerId challenger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (evidence.Signer != challenger)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "the challenger must be the evidence's signer.");
        }

        var rules = await GetRulesAsync(cancellationToken).ConfigureAwait(false);
        PeerId? validator = evidence.Message.Kind == EvidenceKind.FraudVerdict ? VerdictValidator(evidence.Message) : null;
        bool registered = validator is { } v && await IsValidatorAsync(v, cancellationToken).ConfigureAwait(false);
        var check = EvidenceVerifier.Check(evidence, peer => registered && validator == peer, rules.RequireRegisteredValidator);
        if (check.Evidence is not { } proven)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, check.Problem);
        }

        if (proven.Accused == challenger)
        {
            return new EconomicResult(EconomicStatus.NotAllowed, "a node cannot challenge itself.");
        }

        if (await AddressOfAsync(proven.Accused, cancellationToken).ConfigureAwait(false) is not { } accused)
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "the accused has no known chain account.");
        }

        if (proven.Kind == EvidenceKind.FraudVerdict)
        {
            var verdict = SignedMessage.Open<Verdict>(evidence.Message.First);
            if (!_accounts.TryGetKey(proven.Validator, out var validatorKey))
            {
                return new EconomicResult(EconomicStatus.InvalidEvidence, "this process holds no chain key of the verdict's validator to sign the EIP-712 verdict.");
            }

            var chainVerdict = new VerdictStruct
            {
                ReceiptId = verdict.Message.ReceiptId.Digest.ToArray(),
                RequestId = proven.Request.Digest.ToArray(),
                Node = accused,
                Validator = validatorKey.GetPublicAddress(),
                Outcome = (byte)VerdictOutcome.Fraud,
            };
            return await SendAsAsync(challenger, new SlashByVerdictFunction { Op = Op(operation), Verdict = chainVerdict, Signature = Sign(validatorKey, _digests.Verdict(chainVerdict)) }, 0, cancellationToken).ConfigureAwait(false);
        }

        // Equivocation: the node's account must have signed both receipts as EIP-712 data.
        if (!_accounts.TryGetKey(proven.Accused, out var nodeKey))
        {
            return new EconomicResult(EconomicStatus.InvalidEvidence, "this process holds no EIP-712 signatures of the accused's account for the two receipts.");
        }

        var first = ChainReceipt(SignedMessage.Open<InferenceReceipt>(SignedMessage.Open<TransactionRecord>(evidence.Message.First).Message.ReceiptEnvelope), accused);
        var second = ChainReceipt(SignedMessage.Open<InferenceReceipt>(SignedMessage.Open<TransactionRecord>(evidence.Message.Second).Message.ReceiptEnvelope), accused);
        return await SendAsAsync(
            challenger,
            new SlashByEquivocationFunction { Op = Op(operation), First = first, FirstSignature = Sign(nodeKey, _digests.Receipt(first)), Second = second, SecondSignature = Sign(nodeKey, _digests.Receipt(second)) },
            0,
            cancellationToken).ConfigureAwait(false);
    }
}
