// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title PoIP economic ledger: stake, escrow per request, settlement bound to the node's EIP-712
/// receipt, batched settlement, slashing from fraud verdicts and equivocation, validator registry,
/// identities, governance of parameters and grants from the public fund.
/// @notice Amounts are wei of the chain's native currency. Every state-changing call takes an
/// operation id (bytes16), applied at most once. Every refusal is a custom error whose name is the
/// C# EconomicStatus it maps to.
contract PoIPLedger is EIP712 {
    // ---- errors (names = PoIP.Core.Economics.EconomicStatus) ----
    error DuplicateOperation();
    error UnknownAccount();
    error InsufficientFunds();
    error InsufficientStake();
    error NotYetWithdrawable();
    error InvalidEvidence();
    error EvidenceAlreadyUsed();
    error UnknownEscrow();
    error InvalidAmount();
    error NotAllowed();
    error InvalidReceipt();
    error AlreadyPaid();

    // ---- events ----
    event IdentityBound(address indexed account, bytes32 indexed peerIdHash, bytes peerId, bytes ed25519Signature, uint64 deadline);
    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Staked(address indexed node, uint256 amount);
    event UnbondRequested(address indexed node, uint256 amount, uint64 releaseAt);
    event UnbondedWithdrawn(address indexed node, uint256 amount);
    event ValidatorRegistered(address indexed validator);
    event EscrowOpened(bytes32 indexed requestId, address indexed client, address indexed node, uint256 cap, bytes32 group);
    event EscrowSettled(bytes32 indexed requestId, bytes32 receiptId, uint256 price, uint256 fee);
    event EscrowRefunded(bytes32 indexed requestId);
    event Slashed(address indexed accused, bytes32 indexed evidenceKey, address challenger, uint256 total, uint256 toChallenger, uint256 toFund, uint256 burned);
    event ProposalCreated(uint256 indexed id, address indexed proposer, uint8 kind, uint8 parameter, uint256 value, address recipient);
    event Voted(uint256 indexed id, address indexed voter, bool support, uint256 weight);
    event ProposalExecuted(uint256 indexed id, bool passed);
    event ParameterChanged(uint8 indexed parameter, uint256 value);
    event GrantPaid(uint256 indexed id, address indexed recipient, uint256 amount);
    event ChannelFunded(address indexed client, address indexed node, uint256 amount);
    event VoucherRedeemed(address indexed client, address indexed node, uint256 total, uint256 paid, uint256 fee);
    event ChannelThawing(address indexed client, address indexed node, uint256 amount, uint64 thawEndsAt);
    event ChannelWithdrawn(address indexed client, address indexed node, uint256 amount);

    // ---- EIP-712 types ----
    bytes32 public constant RECEIPT_TYPEHASH =
        keccak256("Receipt(bytes32 requestId,bytes32 receiptId,address node,uint256 price)");
    bytes32 public constant RECEIPT_BATCH_TYPEHASH =
        keccak256("ReceiptBatch(address node,Receipt[] receipts)Receipt(bytes32 requestId,bytes32 receiptId,address node,uint256 price)");
    bytes32 public constant VERDICT_TYPEHASH =
        keccak256("Verdict(bytes32 receiptId,bytes32 requestId,address node,address validator,uint8 outcome)");

    /// @notice Graph-style aggregate voucher: the client signs the running total it owes the node on
    /// their channel; a voucher pays only what its total adds to the last one redeemed.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(address client,address node,uint256 total)");

    struct Voucher {
        address client;
        address node;
        uint256 total;
    }

    struct Receipt {
        bytes32 requestId;
        bytes32 receiptId;
        address node;
        uint256 price;
    }

    struct Verdict {
        bytes32 receiptId;
        bytes32 requestId;
        address node;
        address validator;
        uint8 outcome; // 2 = fraud (PoIP.Core.Proofs.VerdictOutcome.Fraud)
    }

    // ---- parameters (index = PoIP.Economics.Parameters.EconomicParameter order) ----
    uint8 public constant AUDIT_PROBABILITY_BPS = 0;
    uint8 public constant SLASH_FRACTION_BPS = 1;
    uint8 public constant CHALLENGER_SHARE_BPS = 2;
    uint8 public constant PUBLIC_FUND_SHARE_BPS = 3;
    uint8 public constant PROTOCOL_FEE_BPS = 4;
    uint8 public constant DISPUTE_WINDOW = 5;
    uint8 public constant UNBONDING_PERIOD = 6;
    uint8 public constant MINIMUM_STAKE = 7;
    uint8 public constant VOTING_PERIOD = 8;
    uint8 public constant QUORUM_BPS = 9;
    uint8 public constant APPROVAL_THRESHOLD_BPS = 10;
    uint8 public constant TIMELOCK = 11;
    uint8 public constant PARAMETER_COUNT = 12;

    uint256[12] public parameters;
    bool public immutable requireRegisteredValidator;

    // ---- state ----
    struct Tranche {
        uint128 amount;
        uint64 releaseAt;
    }

    struct Escrow {
        address client;
        uint64 openedAt;
        uint8 state; // 0 none, 1 open, 2 settled, 3 refunded
        uint8 grouping; // 0 alone, 1 the first escrow of a group that others joined, 2 a member of `group`
        address node;
        uint128 cap;
        uint128 price;
        bytes32 group; // a member's group: the request id of the group's first escrow (0 otherwise)
    }

    struct Channel {
        uint128 funds; // still payable to the node (counted in totalEscrowed)
        uint128 thawing; // part of funds the client is taking back once thawEndsAt passes
        uint256 redeemed; // the highest voucher total paid so far
        uint64 thawEndsAt;
    }

    struct Proposal {
        address proposer;
        uint64 votingEndsAt;
        uint8 kind; // 1 parameter, 2 grant
        uint8 parameter;
        uint8 state; // 1 open, 2 passed, 3 rejected
        address recipient;
        uint256 value;
        uint256 bondedAtProposal;
        uint256 yes;
        uint256 no;
    }

    mapping(bytes16 => bool) public operationUsed;
    mapping(address => bool) public known;
    mapping(address => bytes32) public peerOf;
    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public bondedOf;
    mapping(address => Tranche[]) internal _tranches;
    mapping(address => bool) public isValidator;
    mapping(bytes32 => Escrow) public escrows;
    /// @notice Per group (the request id of its first escrow): whether one of its escrows settled; at
    /// most one escrow of a group is ever paid.
    mapping(bytes32 => bool) public groupPaid;
    mapping(address => mapping(address => Channel)) public channels; // client => node
    mapping(bytes32 => bool) public evidenceUsed;
    mapping(bytes32 => bool) public fraudProven; // keccak(requestId, node)
    mapping(uint256 => Proposal) public proposals;
    mapping(uint256 => mapping(address => bool)) public hasVoted;
    uint256 public proposalCount;

    uint256 public supply;
    uint256 public totalBalances;
    uint256 public totalBonded;
    uint256 public totalUnbonding;
    uint256 public totalEscrowed;
    uint256 public publicFund;
    uint256 public burned;

    constructor(uint256[12] memory initial, bool requireRegistered) EIP712("PoIP", "1") {
        for (uint8 i = 0; i < PARAMETER_COUNT; i++) {
            if (!inRange(i, initial[i])) revert InvalidAmount();
            parameters[i] = initial[i];
        }
        if (!splitValid(initial[CHALLENGER_SHARE_BPS], initial[PUBLIC_FUND_SHARE_BPS])) revert InvalidAmount();
        requireRegisteredValidator = requireRegistered;
    }

    // ---- identities ----

    /// @notice Binds the sender's account to a libp2p peer id. The Ed25519 signature (by the peer id's
    /// key, over "poip-chain-binding" || chainId || this contract || account || deadline) cannot be
    /// checked on chain (no Ed25519 precompile); peers check it off chain from this event. Once per account.
    function bindIdentity(bytes calldata peerId, bytes calldata ed25519Signature, uint64 deadline) external {
        if (peerId.length == 0 || peerId.length > 64 || ed25519Signature.length != 64) revert InvalidAmount();
        if (deadline < block.timestamp || peerOf[msg.sender] != bytes32(0)) revert NotAllowed();
        bytes32 peerIdHash = keccak256(peerId);
        peerOf[msg.sender] = peerIdHash;
        emit IdentityBound(msg.sender, peerIdHash, peerId, ed25519Signature, deadline);
    }

    // ---- accounts ----

    function deposit(bytes16 op) external payable {
        useOperation(op);
        if (msg.value == 0) revert InvalidAmount();
        known[msg.sender] = true;
        balanceOf[msg.sender] += msg.value;
        totalBalances += msg.value;
        supply += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw(bytes16 op, uint256 amount) external {
        useOperation(op);
        debit(msg.sender, amount);
        supply -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool sent,) = msg.sender.call{value: amount}("");
        if (!sent) revert NotAllowed();
    }

    // ---- staking ----

    function stake(bytes16 op, uint256 amount) external {
        useOperation(op);
        debit(msg.sender, amount);
        bondedOf[msg.sender] += amount;
        totalBonded += amount;
        emit Staked(msg.sender, amount);
    }

    function requestUnbond(bytes16 op, uint256 amount) external {
        useOperation(op);
        if (amount == 0 || amount > type(uint128).max) revert InvalidAmount();
        if (!known[msg.sender]) revert UnknownAccount();
        if (bondedOf[msg.sender] < amount) revert InsufficientStake();
        bondedOf[msg.sender] -= amount;
        totalBonded -= amount;
        totalUnbonding += amount;
        uint64 releaseAt = uint64(block.timestamp + parameters[UNBONDING_PERIOD]);
        _tranches[msg.sender].push(Tranche(uint128(amount), releaseAt));
        emit UnbondRequested(msg.sender, amount, releaseAt);
    }

    function withdrawUnbonded(bytes16 op) external {
        useOperation(op);
        Tranche[] storage list = _tranches[msg.sender];
        uint256 released;
        uint256 kept;
        for (uint256 i = 0; i < list.length; i++) {
            Tranche memory t = list[i];
            if (t.releaseAt <= block.timestamp) {
                released += t.amount;
            } else {
                list[kept++] = t;
            }
        }
        uint256 before = list.length;
        if (kept == before) revert NotYetWithdrawable();
        for (uint256 i = kept; i < before; i++) {
            list.pop();
        }
        totalUnbonding -= released;
        balanceOf[msg.sender] += released;
        totalBalances += released;
        emit UnbondedWithdrawn(msg.sender, released);
    }

    function registerValidator(bytes16 op) external {
        useOperation(op);
        if (!known[msg.sender]) revert UnknownAccount();
        if (bondedOf[msg.sender] < parameters[MINIMUM_STAKE]) revert InsufficientStake();
        if (isValidator[msg.sender]) revert NotAllowed();
        isValidator[msg.sender] = true;
        emit ValidatorRegistered(msg.sender);
    }

    // ---- escrow ----

    /// @notice Locks the sender's cap for one request served by `node`. A hedge or retry of a request
    /// already escrowed names that first escrow's request id as `group` (0 otherwise): of a group's
    /// escrows at most one settles, and once one did the others may be refunded at once.
    function openEscrow(bytes16 op, bytes32 requestId, bytes32 group, address node, uint256 cap) external {
        useOperation(op);
        if (cap == 0 || cap > type(uint128).max) revert InvalidAmount();
        if (node == msg.sender) revert NotAllowed();
        if (!known[msg.sender] || !known[node]) revert UnknownAccount();
        if (escrows[requestId].state != 0) revert NotAllowed();
        if (bondedOf[node] < parameters[MINIMUM_STAKE]) revert InsufficientStake();
        if (group != 0) {
            Escrow storage first = escrows[group];
            // The group is the sender's own first escrow (not itself a member of another group).
            if (group == requestId || first.client != msg.sender || first.grouping == 2) revert NotAllowed();
            if (first.state == 2 || groupPaid[group]) revert AlreadyPaid();
            if (first.grouping == 0) first.grouping = 1;
        }
        debit(msg.sender, cap);
        totalEscrowed += cap;
        escrows[requestId] = Escrow(msg.sender, uint64(block.timestamp), 1, group == 0 ? 0 : 2, node, uint128(cap), 0, group);
        emit EscrowOpened(requestId, msg.sender, node, cap, group);
    }

    /// @notice Settles one escrow against the escrowed node's EIP-712 receipt; anyone may submit it.
    function settle(bytes16 op, Receipt calldata receipt, bytes calldata signature) external {
        useOperation(op);
        address signer = recover(hashReceipt(receipt), signature);
        settleOne(receipt, signer);
    }

    /// @notice Settles many escrows of one node with one signature over the whole batch; all or nothing.
    function settleBatch(bytes16 op, address node, Receipt[] calldata receipts, bytes calldata signature) external {
        useOperation(op);
        if (receipts.length == 0) revert InvalidAmount();
        address signer = recover(hashReceiptBatch(node, receipts), signature);
        if (signer != node) revert InvalidReceipt();
        for (uint256 i = 0; i < receipts.length; i++) {
            settleOne(receipts[i], signer);
        }
    }

    function refundEscrow(bytes16 op, bytes32 requestId) external {
        useOperation(op);
        Escrow storage e = escrows[requestId];
        if (e.state != 1) revert UnknownEscrow();
        bool siblingPaid = e.grouping != 0 && groupPaid[e.grouping == 2 ? e.group : requestId];
        if (!siblingPaid && !fraudProven[keccak256(abi.encode(requestId, e.node))] && block.timestamp < e.openedAt + 2 * parameters[DISPUTE_WINDOW]) {
            revert NotAllowed();
        }
        refund(requestId, e);
    }

    // ---- aggregate vouchers (one channel per client and node) ----

    /// @notice Moves free balance of the client into its channel to `node`.
    function fundChannel(bytes16 op, address node, uint256 amount) external {
        useOperation(op);
        if (node == msg.sender) revert NotAllowed();
        if (!known[node]) revert UnknownAccount();
        if (amount > type(uint128).max) revert InvalidAmount();
        debit(msg.sender, amount);
        totalEscrowed += amount;
        channels[msg.sender][node].funds += uint128(amount);
        emit ChannelFunded(msg.sender, node, amount);
    }

    /// @notice Pays the node what the client-signed total adds to the last redeemed one; anyone may submit it.
    /// A voucher for a lower or equal total pays nothing and is refused.
    function redeemVoucher(bytes16 op, Voucher calldata voucher, bytes calldata signature) external {
        useOperation(op);
        if (recover(hashVoucher(voucher), signature) != voucher.client) revert InvalidReceipt();
        Channel storage c = channels[voucher.client][voucher.node];
        if (voucher.total <= c.redeemed) revert InvalidAmount();
        uint256 owed = voucher.total - c.redeemed;
        if (owed > c.funds) revert InsufficientFunds();
        uint256 fee = owed * parameters[PROTOCOL_FEE_BPS] / 10_000;
        c.redeemed = voucher.total;
        c.funds -= uint128(owed);
        if (c.thawing > c.funds) c.thawing = c.funds;
        totalEscrowed -= owed;
        balanceOf[voucher.node] += owed - fee;
        totalBalances += owed - fee;
        publicFund += fee;
        emit VoucherRedeemed(voucher.client, voucher.node, voucher.total, owed, fee);
    }

    /// @notice Starts taking `amount` of the channel back; the node may still redeem for a dispute window.
    function thawChannel(bytes16 op, address node, uint256 amount) external {
        useOperation(op);
        Channel storage c = channels[msg.sender][node];
        if (amount == 0 || amount > c.funds) revert InvalidAmount();
        c.thawing = uint128(amount);
        c.thawEndsAt = uint64(block.timestamp + parameters[DISPUTE_WINDOW]);
        emit ChannelThawing(msg.sender, node, amount, c.thawEndsAt);
    }

    /// @notice Returns the thawed part of the channel to the client's free balance.
    function withdrawChannel(bytes16 op, address node) external {
        useOperation(op);
        Channel storage c = channels[msg.sender][node];
        uint256 amount = c.thawing;
        if (amount == 0) revert UnknownEscrow();
        if (block.timestamp < c.thawEndsAt) revert NotYetWithdrawable();
        c.funds -= uint128(amount);
        c.thawing = 0;
        c.thawEndsAt = 0;
        totalEscrowed -= amount;
        balanceOf[msg.sender] += amount;
        totalBalances += amount;
        emit ChannelWithdrawn(msg.sender, node, amount);
    }

    // ---- slashing ----

    function slashByVerdict(bytes16 op, Verdict calldata verdict, bytes calldata signature) external {
        useOperation(op);
        address signer = recover(hashVerdict(verdict), signature);
        if (signer != verdict.validator || verdict.outcome != 2 || verdict.node == verdict.validator) revert InvalidEvidence();
        if (requireRegisteredValidator && !isValidator[verdict.validator]) revert InvalidEvidence();
        if (msg.sender == verdict.node) revert NotAllowed();
        bytes32 key = keccak256(abi.encode("fraud", verdict.receiptId));
        slash(verdict.node, key);
        fraudProven[keccak256(abi.encode(verdict.requestId, verdict.node))] = true;
        Escrow storage e = escrows[verdict.requestId];
        if (e.state == 1 && e.node == verdict.node) {
            refund(verdict.requestId, e);
        }
    }

    function slashByEquivocation(bytes16 op, Receipt calldata first, bytes calldata firstSignature, Receipt calldata second, bytes calldata secondSignature) external {
        useOperation(op);
        address node = first.node;
        if (recover(hashReceipt(first), firstSignature) != node || recover(hashReceipt(second), secondSignature) != node
            || second.node != node || first.requestId != second.requestId || first.receiptId == second.receiptId) {
            revert InvalidEvidence();
        }
        if (msg.sender == node) revert NotAllowed();
        slash(node, keccak256(abi.encode("equivocation", first.requestId, node)));
    }

    // ---- governance ----

    function proposeParameter(bytes16 op, uint8 parameter, uint256 value) external returns (uint256 id) {
        useOperation(op);
        if (parameter >= PARAMETER_COUNT || !inRange(parameter, value)) revert InvalidAmount();
        id = propose(1, parameter, value, address(0));
    }

    function proposeGrant(bytes16 op, address recipient, uint256 amount) external returns (uint256 id) {
        useOperation(op);
        if (amount == 0 || !known[recipient]) revert InvalidAmount();
        id = propose(2, 0, amount, recipient);
    }

    function vote(bytes16 op, uint256 id, bool support) external {
        useOperation(op);
        Proposal storage p = proposals[id];
        if (p.state != 1 || block.timestamp >= p.votingEndsAt || hasVoted[id][msg.sender]) revert NotAllowed();
        uint256 weight = bondedOf[msg.sender];
        if (weight == 0) revert InsufficientStake();
        hasVoted[id][msg.sender] = true;
        if (support) {
            p.yes += weight;
        } else {
            p.no += weight;
        }
        emit Voted(id, msg.sender, support, weight);
    }

    function execute(bytes16 op, uint256 id) external {
        useOperation(op);
        Proposal storage p = proposals[id];
        if (p.state != 1 || block.timestamp < p.votingEndsAt + parameters[TIMELOCK]) revert NotAllowed();
        uint256 cast = p.yes + p.no;
        bool passed = cast * 10_000 >= p.bondedAtProposal * parameters[QUORUM_BPS] && cast > 0
            && p.yes * 10_000 >= cast * parameters[APPROVAL_THRESHOLD_BPS];
        if (passed && p.kind == 1) {
            uint256 old = parameters[p.parameter];
            parameters[p.parameter] = p.value;
            if (!splitValid(parameters[CHALLENGER_SHARE_BPS], parameters[PUBLIC_FUND_SHARE_BPS])) {
                parameters[p.parameter] = old;
                passed = false;
            } else {
                emit ParameterChanged(p.parameter, p.value);
            }
        } else if (passed && p.kind == 2) {
            if (publicFund < p.value) {
                passed = false;
            } else {
                publicFund -= p.value;
                balanceOf[p.recipient] += p.value;
                totalBalances += p.value;
                emit GrantPaid(id, p.recipient, p.value);
            }
        }
        p.state = passed ? 2 : 3;
        emit ProposalExecuted(id, passed);
    }

    // ---- views ----

    function tranchesOf(address node) external view returns (Tranche[] memory) {
        return _tranches[node];
    }

    function getParameters() external view returns (uint256[12] memory) {
        return parameters;
    }

    function totals() external view returns (uint256[7] memory) {
        return [supply, totalBalances, totalBonded, totalUnbonding, totalEscrowed, publicFund, burned];
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function hashReceipt(Receipt calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(receiptStructHash(r));
    }

    function hashReceiptBatch(address node, Receipt[] calldata receipts) public view returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](receipts.length);
        for (uint256 i = 0; i < receipts.length; i++) {
            hashes[i] = receiptStructHash(receipts[i]);
        }
        return _hashTypedDataV4(keccak256(abi.encode(RECEIPT_BATCH_TYPEHASH, node, keccak256(abi.encodePacked(hashes)))));
    }

    function hashVoucher(Voucher calldata v) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, v.client, v.node, v.total)));
    }

    function hashVerdict(Verdict calldata v) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VERDICT_TYPEHASH, v.receiptId, v.requestId, v.node, v.validator, v.outcome)));
    }

    // ---- internals ----

    function receiptStructHash(Receipt calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(RECEIPT_TYPEHASH, r.requestId, r.receiptId, r.node, r.price));
    }

    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address signer) {
        ECDSA.RecoverError failure;
        (signer, failure,) = ECDSA.tryRecover(digest, signature);
        if (failure != ECDSA.RecoverError.NoError) revert InvalidReceipt();
    }

    function useOperation(bytes16 op) internal {
        if (operationUsed[op]) revert DuplicateOperation();
        operationUsed[op] = true;
    }

    function debit(address account, uint256 amount) internal {
        if (amount == 0) revert InvalidAmount();
        if (!known[account]) revert UnknownAccount();
        if (balanceOf[account] < amount) revert InsufficientFunds();
        balanceOf[account] -= amount;
        totalBalances -= amount;
    }

    function settleOne(Receipt calldata receipt, address signer) internal {
        Escrow storage e = escrows[receipt.requestId];
        if (e.state != 1) revert UnknownEscrow();
        if (signer != e.node || receipt.node != e.node) revert InvalidReceipt();
        if (receipt.price > e.cap) revert InvalidAmount();
        if (block.timestamp < e.openedAt + parameters[DISPUTE_WINDOW]) revert NotAllowed();
        if (fraudProven[keccak256(abi.encode(receipt.requestId, e.node))]) revert NotAllowed();
        if (e.grouping != 0) {
            bytes32 group = e.grouping == 2 ? e.group : receipt.requestId;
            if (groupPaid[group]) revert AlreadyPaid();
            groupPaid[group] = true;
        }
        uint256 price = receipt.price;
        uint256 fee = price * parameters[PROTOCOL_FEE_BPS] / 10_000;
        uint256 cap = e.cap;
        e.state = 2;
        e.price = uint128(price);
        totalEscrowed -= cap;
        balanceOf[e.node] += price - fee;
        balanceOf[e.client] += cap - price;
        totalBalances += cap - fee;
        publicFund += fee;
        emit EscrowSettled(receipt.requestId, receipt.receiptId, price, fee);
    }

    function refund(bytes32 requestId, Escrow storage e) internal {
        uint256 cap = e.cap;
        e.state = 3;
        totalEscrowed -= cap;
        balanceOf[e.client] += cap;
        totalBalances += cap;
        emit EscrowRefunded(requestId);
    }

    function slash(address accused, bytes32 key) internal {
        if (evidenceUsed[key]) revert EvidenceAlreadyUsed();
        if (!known[msg.sender]) revert UnknownAccount();
        Tranche[] storage list = _tranches[accused];
        uint256 bonded = bondedOf[accused];
        uint256 slashable = bonded;
        for (uint256 i = 0; i < list.length; i++) {
            slashable += list[i].amount;
        }
        uint256 total = slashable * parameters[SLASH_FRACTION_BPS] / 10_000;
        if (total == 0) total = slashable; // dust
        uint256 toChallenger = total * parameters[CHALLENGER_SHARE_BPS] / 10_000;
        uint256 toFund = total * parameters[PUBLIC_FUND_SHARE_BPS] / 10_000;
        uint256 fromBonded = total < bonded ? total : bonded;
        bondedOf[accused] = bonded - fromBonded;
        totalBonded -= fromBonded;
        uint256 left = total - fromBonded;
        for (uint256 i = list.length; i > 0 && left > 0; i--) {
            uint256 amount = list[i - 1].amount;
            uint256 take = left < amount ? left : amount;
            list[i - 1].amount = uint128(amount - take);
            totalUnbonding -= take;
            left -= take;
        }
        evidenceUsed[key] = true;
        balanceOf[msg.sender] += toChallenger;
        totalBalances += toChallenger;
        publicFund += toFund;
        burned += total - toChallenger - toFund;
        emit Slashed(accused, key, msg.sender, total, toChallenger, toFund, total - toChallenger - toFund);
    }

    function propose(uint8 kind, uint8 parameter, uint256 value, address recipient) internal returns (uint256 id) {
        if (bondedOf[msg.sender] == 0) revert InsufficientStake();
        id = ++proposalCount;
        proposals[id] = Proposal(msg.sender, uint64(block.timestamp + parameters[VOTING_PERIOD]), kind, parameter, 1, recipient, value, totalBonded, 0, 0);
        emit ProposalCreated(id, msg.sender, kind, parameter, value, recipient);
    }

    function splitValid(uint256 challenger, uint256 fund) internal pure returns (bool) {
        return challenger + fund <= 10_000;
    }

    /// @notice The ranges of docs/economics.md (PoIP.Economics.Parameters.ParameterRules).
    function inRange(uint8 parameter, uint256 value) internal pure returns (bool) {
        uint256[12] memory low = [uint256(1), 100, 0, 0, 0, 60, 3_600, 1, 60, 100, 5_000, 0];
        uint256[12] memory high = [uint256(10_000), 10_000, 5_000, 10_000, 2_000, 7 days, 60 days, 1e27, 30 days, 10_000, 10_000, 30 days];
        return value >= low[parameter] && value <= high[parameter];
    }
}
