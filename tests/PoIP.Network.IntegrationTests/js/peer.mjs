// A js-libp2p peer for PoIP.Network's interop tests and the p2p benchmark.
//
//   node --import ./polyfill.mjs peer.mjs [--seed HEX32] [--listen MULTIADDR]
//   node --import ./polyfill.mjs peer.mjs peerid HEX32        (prints the peer id of an Ed25519 seed)
//
// Serves /echo/1.0.0 (echoes until the writer half-closes) and /perf/1.0.0 (perf.md server),
// prints "LISTEN <multiaddr>" then reads one command per line on stdin and answers one JSON line:
//   dial MA | identify PEERID | ping MA | echo MA STREAMS BYTES | bulk MA BYTES | perf MA UP DOWN
//   | connections | waitclosed PEERID | hangup PEERID | quit
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'

const args = process.argv.slice(2)
const hex = s => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = u => Buffer.from(u).toString('hex')

if (args[0] === 'peerid') {
  const key = await generateKeyPairFromSeed('Ed25519', hex(args[1]))
  console.log(peerIdFromPrivateKey(key).toString())
  process.exit(0)
}

const opt = name => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
const privateKey = opt('--seed') ? await generateKeyPairFromSeed('Ed25519', hex(opt('--seed'))) : undefined
const listen = opt('--listen') ?? '/ip4/127.0.0.1/tcp/0'

const node = await createLibp2p({
  ...(privateKey ? { privateKey } : {}),
  addresses: { listen: [listen] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionGater: { denyDialMultiaddr: () => false },
  services: { identify: identify(), ping: ping() }
})

const identified = new Map()
const waiters = new Map()
node.addEventListener('peer:identify', evt => {
  const d = evt.detail
  const info = {
    peer: d.peerId.toString(),
    protocols: d.protocols,
    publicKey: d.publicKey ? toHex(d.publicKey) : null,
    agentVersion: d.agentVersion,
    listenAddrs: d.listenAddrs.map(a => a.toString())
  }
  identified.set(info.peer, info)
  for (const w of waiters.get(info.peer) ?? []) w(info)
  waiters.delete(info.peer)
})

const bytesOf = chunk => chunk.subarray()
async function send (stream, buf) {
  if (!stream.send(buf)) await stream.onDrain()
}

await node.handle('/echo/1.0.0', async (stream) => {
  try {
    for await (const chunk of stream) await send(stream, bytesOf(chunk))
    await stream.close()
  } catch (err) { stream.abort(err) }
}, { maxInboundStreams: 512, maxOutboundStreams: 512 })

await node.handle('/perf/1.0.0', async (stream) => {
  try {
    let header = null
    let pending = new Uint8Array(0)
    for await (const chunk of stream) {
      if (header === null) {
        pending = Buffer.concat([pending, bytesOf(chunk)])
        if (pending.length >= 8) header = Buffer.from(pending).readBigUInt64BE(0)
      }
    }
    const block = new Uint8Array(64 * 1024)
    let left = header ?? 0n
    while (left > 0n) {
      const n = left < 65536n ? Number(left) : 65536
      await send(stream, n === 65536 ? block : block.subarray(0, n))
      left -= BigInt(n)
    }
    await stream.close()
  } catch (err) { stream.abort(err) }
}, { maxInboundStreams: 64 })

await node.start()
console.log('LISTEN ' + node.getMultiaddrs()[0].toString())

async function echoOne (ma, bytes) {
  const stream = await node.dialProtocol(multiaddr(ma), '/echo/1.0.0')
  const data = randomBytes(bytes)
  const reading = (async () => {
    const parts = []
    for await (const chunk of stream) parts.push(Buffer.from(bytesOf(chunk)))
    return Buffer.concat(parts)
  })()
  for (let o = 0; o < data.length; o += 65536) await send(stream, data.subarray(o, o + 65536))
  await stream.close()
  const back = await reading
  if (!back.equals(data)) throw new Error(`echo mismatch: sent ${data.length}, got ${back.length}`)
}

async function bulk (ma, total) {
  const stream = await node.dialProtocol(multiaddr(ma), '/echo/1.0.0')
  const sent = createHash('sha256')
  const got = createHash('sha256')
  let received = 0
  const reading = (async () => {
    for await (const chunk of stream) { const b = bytesOf(chunk); got.update(b); received += b.length }
  })()
  const block = randomBytes(1024 * 1024)
  for (let o = 0; o < total; o += 65536) {
    const n = Math.min(65536, total - o)
    const piece = block.subarray(o % block.length, (o % block.length) + n)
    sent.update(piece)
    await send(stream, piece)
  }
  await stream.close()
  await reading
  return { sent: sent.digest('hex'), received: got.digest('hex'), bytes: received }
}

async function perf (ma, up, down) {
  const start = process.hrtime.bigint()
  const stream = await node.dialProtocol(multiaddr(ma), '/perf/1.0.0')
  const header = Buffer.alloc(8)
  header.writeBigUInt64BE(BigInt(down))
  await send(stream, header)
  const block = new Uint8Array(64 * 1024)
  for (let left = up; left > 0; left -= 65536) await send(stream, left >= 65536 ? block : block.subarray(0, left))
  await stream.close()
  let received = 0
  for await (const chunk of stream) received += chunk.byteLength
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (received !== down) throw new Error(`perf: expected ${down}, got ${received}`)
  return { upload: up, download: received, seconds }
}

const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  const [cmd, ...rest] = line.trim().split(/\s+/)
  try {
    let result
    switch (cmd) {
      case 'dial': {
        const conn = await node.dial(multiaddr(rest[0]))
        result = { remotePeer: conn.remotePeer.toString() }
        break
      }
      case 'identify': {
        result = identified.get(rest[0]) ?? await new Promise((resolve, reject) => {
          const list = waiters.get(rest[0]) ?? []
          list.push(resolve)
          waiters.set(rest[0], list)
          setTimeout(() => reject(new Error('identify timed out')), 20000)
        })
        break
      }
      case 'ping':
        result = { rtt: await node.services.ping.ping(multiaddr(rest[0])) }
        break
      case 'echo': {
        const [ma, streams, bytes] = [rest[0], Number(rest[1]), Number(rest[2])]
        await Promise.all(Array.from({ length: streams }, () => echoOne(ma, bytes)))
        result = { streams }
        break
      }
      case 'bulk':
        result = await bulk(rest[0], Number(rest[1]))
        break
      case 'perf':
        result = await perf(rest[0], Number(rest[1]), Number(rest[2]))
        break
      case 'connections':
        result = { connections: node.getConnections().map(c => ({ peer: c.remotePeer.toString(), status: c.status, streams: c.streams.length })) }
        break
      case 'waitclosed': {
        const peer = peerIdFromString(rest[0])
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('connections still open')), 20000)
          const check = () => {
            if (node.getConnections(peer).length === 0) {
              node.removeEventListener('connection:close', check)
              clearTimeout(timer)
              resolve()
            }
          }
          node.addEventListener('connection:close', check)
          check()
        })
        result = {}
        break
      }
      case 'hangup':
        await node.hangUp(peerIdFromString(rest[0]))
        result = {}
        break
      case 'quit':
        await node.stop()
        console.log(JSON.stringify({ ok: true }))
        process.exit(0)
        break
      default:
        throw new Error('unknown command ' + cmd)
    }
    console.log(JSON.stringify({ ok: true, ...result }))
  } catch (err) {
    console.log(JSON.stringify({ ok: false, error: String(err?.stack ?? err) }))
  }
}
await node.stop()
