// Node 20 lacks Promise.withResolvers, which js-libp2p 3 uses. Load with: node --import ./polyfill.mjs
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
