// A js-libp2p kad-dht peer (@libp2p/kad-dht 16.4.5) for PoIP.Network's DHT interop tests.
//
//   node --import ./polyfill.mjs kad.mjs [--protocol ID] [--seed HEX32]
//
// Server mode on loopback (clientMode: false, passthroughMapper), namespace "test" whose values are
// "v<number>" (the higher wins), as the C# tests' VersionNamespace. Prints "LISTEN <multiaddr>", then
// answers one JSON line per stdin command:
//   dial MA | waittable N | table | put KEY VALUE | get KEY | provide HEX | providers HEX
//   | findpeer PEERID | closest HEX | quit
// (KEY and VALUE are UTF-8 text; HEX is a multihash or CID in hex.)
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { createInterface } from 'node:readline'

const args = process.argv.slice(2)
const opt = name => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
const hex = s => Uint8Array.from(Buffer.from(s, 'hex'))
const text = u => Buffer.from(u).toString('utf8')
const privateKey = opt('--seed') ? await generateKeyPairFromSeed('Ed25519', hex(opt('--seed'))) : undefined
const protocol = opt('--protocol') ?? '/poip/kad/1.0.0'

const number = v => { const s = text(v); if (!/^v[0-9]+$/.test(s)) throw new Error('not v<number>'); return Number(s.slice(1)) }
const node = await createLibp2p({
  ...(privateKey ? { privateKey } : {}),
  addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol,
      clientMode: false,
      peerInfoMapper: passthroughMapper,
      validators: { test: async (key, value) => { number(value) } },
      selectors: { test: (key, values) => values.reduce((best, v, i) => number(v) > number(values[best]) ? i : best, 0) }
    })
  }
})
await node.start()
console.log('LISTEN ' + node.getMultiaddrs()[0].toString())
const dht = node.services.dht

const peerJson = p => ({ id: p.id.toString(), addrs: (p.multiaddrs ?? []).map(a => a.toString()) })
const withTimeout = (ms) => ({ signal: AbortSignal.timeout(ms) })

async function run (cmd, rest) {
  switch (cmd) {
    case 'dial': {
      const conn = await node.dial(multiaddr(rest[0]))
      return { remotePeer: conn.remotePeer.toString() }
    }
    case 'waittable': {
      const want = Number(rest[0])
      const deadline = Date.now() + 30000
      while (dht.routingTable.size < want) {
        if (Date.now() > deadline) throw new Error(`routing table has ${dht.routingTable.size} peers, wanted ${want}`)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      return { size: dht.routingTable.size }
    }
    case 'table':
      return { size: dht.routingTable.size }
    case 'put': {
      let confirmed = 0
      const errors = []
      for await (const e of dht.put(Buffer.from(rest[0]), Buffer.from(rest[1]), withTimeout(30000))) {
        if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE') confirmed++
        if (e.name === 'QUERY_ERROR') errors.push(String(e.error?.message ?? e.error))
      }
      return { confirmed, errors }
    }
    case 'get': {
      const values = []
      try {
        for await (const e of dht.get(Buffer.from(rest[0]), withTimeout(30000))) {
          if (e.name === 'VALUE') values.push({ from: e.from.toString(), value: text(e.value) })
        }
      } catch (err) {
        if (values.length === 0) throw err
      }
      return { values }
    }
    case 'provide': {
      let sent = 0
      for await (const e of dht.provide(CID.decode(hex(rest[0])), withTimeout(30000))) {
        if (e.name === 'PEER_RESPONSE' || e.name === 'FINAL_PEER') sent++
      }
      return { sent }
    }
    case 'providers': {
      const providers = new Map()
      for await (const e of dht.findProviders(CID.decode(hex(rest[0])), withTimeout(30000))) {
        if (e.name === 'PROVIDER') for (const p of e.providers) providers.set(p.id.toString(), peerJson(p))
      }
      return { providers: [...providers.values()] }
    }
    case 'findpeer': {
      for await (const e of dht.findPeer(peerIdFromString(rest[0]), withTimeout(30000))) {
        if (e.name === 'FINAL_PEER') return { peer: peerJson(e.peer) }
      }
      return { peer: null }
    }
    case 'closest': {
      const peers = new Map()
      for await (const e of dht.getClosestPeers(hex(rest[0]), withTimeout(30000))) {
        if (e.name === 'FINAL_PEER') peers.set(e.peer.id.toString(), peerJson(e.peer))
      }
      return { peers: [...peers.values()] }
    }
    default:
      throw new Error('unknown command ' + cmd)
  }
}

const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  const [cmd, ...rest] = line.trim().split(/\s+/)
  if (cmd === 'quit') {
    await node.stop()
    console.log(JSON.stringify({ ok: true }))
    process.exit(0)
  }
  try {
    console.log(JSON.stringify({ ok: true, ...(await run(cmd, rest)) }))
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: String(err?.stack ?? err) }))
  }
}
await node.stop()
