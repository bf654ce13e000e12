/* widget-server proof of work: solves an ALTCHA v1 challenge (GET /api/v1/challenge) in the
 * background while the reader writes, so the answer is ready when they press "Post". An ES
 * module that /widget.js imports when a reader starts typing on a server with proof of work
 * on (docs/moderation.md, "Proof of work"); readers never see a puzzle.
 *
 * The work is SHA-256 of salt + number for number = 0, 1, 2 ... until it matches the
 * challenge. The digests are computed here, in plain JavaScript, not with Web Crypto: its
 * digest() costs a promise and a thread hop per call, about 10,000 a second in Chromium on
 * our machines against half a million for this one-block compressor (docs/moderation.md has
 * the figures); a bot's solver in Python is about as fast as this, so the cost that makes a
 * bot pay a second per comment is one a reader's browser pays in well under that. The loop
 * runs in short slices and gives the page back between them (a timer), so typing, scrolling
 * and the host page's own scripts never wait for it. No worker: it would need the host page's
 * CSP to allow one, and the slices keep the page responsive without it. */
"use strict";

const SLICE_MS = 12; // main-thread time per slice before the page gets a turn
const CHUNK = 512; // numbers tried between looks at the time (about a millisecond)
const STALE_MS = 20 * 60e3; // a challenge older than this is replaced (the server's TTL is longer)

const K = Int32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2);
const INITIAL = Int32Array.of(
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
const w = new Int32Array(64), out = new Int32Array(8); // reused: allocation would cost more than the hash

// One SHA-256 compression of a 16-word block (FIPS 180-4, section 6.2.2), into `out`. Plain
// locals, no iterators, no allocation: this runs a million times per challenge.
function compress(state, block) {
  w.set(block);
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15], y = w[i - 2];
    w[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[i - 16]
      + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w[i - 7] | 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6],
    h = state[7];
  for (let i = 0; i < 64; i++) {
    const t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))
      + ((e & f) ^ (~e & g)) + K[i] + w[i] | 0;
    const t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)))
      + ((a & b) ^ (a & c) ^ (b & c)) | 0;
    h = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
  }
  out[0] = state[0] + a; out[1] = state[1] + b; out[2] = state[2] + c; out[3] = state[3] + d;
  out[4] = state[4] + e; out[5] = state[5] + f; out[6] = state[6] + g; out[7] = state[7] + h;
  return out;
}

// SHA-256 of an ASCII text (salts are hex, "?expires=…&" and digits), as 8 big-endian words.
function sha256(text) {
  const n = text.length, blocks = ((n + 8) >> 6) + 1, words = new Int32Array(blocks * 16);
  for (let i = 0; i < n; i++) words[i >> 2] |= text.charCodeAt(i) << (24 - (i & 3) * 8);
  words[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
  words[blocks * 16 - 1] = n * 8;
  let state = INITIAL;
  for (let i = 0; i < blocks; i++) state = compress(state, words.subarray(i * 16, i * 16 + 16)).slice();
  return state;
}

// salt + number as one padded block, the salt's words laid once (every salt the server makes fits).
function oneBlock(salt) {
  const base = new Int32Array(16), block = new Int32Array(16);
  for (let i = 0; i < salt.length; i++) base[i >> 2] |= salt.charCodeAt(i) << (24 - (i & 3) * 8);
  return (number) => {
    const digits = String(number), end = salt.length + digits.length;
    block.set(base);
    for (let j = 0, i = salt.length; j < digits.length; j++, i++) {
      block[i >> 2] |= digits.charCodeAt(j) << (24 - (i & 3) * 8);
    }
    block[end >> 2] |= 0x80 << (24 - (end & 3) * 8);
    block[15] = end * 8;
    return compress(INITIAL, block);
  };
}

function sameWords(a, b) {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

// The first number in [from, to) whose digest is `wanted`, or -1. Synchronous, so the engine
// optimizes the loop (inside the async solve() below it ran three times slower).
function scan(digest, wanted, from, to) {
  for (let number = from; number < to; number++) {
    const found = digest(number);
    if (found[0] === wanted[0] && sameWords(found, wanted)) return number;
  }
  return -1;
}

// The number behind one challenge, or null when none up to maxnumber fits (a server fault).
async function solve({ challenge, maxnumber, salt }) {
  const wanted = Int32Array.from(challenge.match(/.{8}/g), (word) => parseInt(word, 16) | 0);
  const fits = salt.length + String(maxnumber).length <= 55; // the message and its padding in 64 bytes
  const digest = fits ? oneBlock(salt) : (number) => sha256(salt + number);
  let sliceEnds = performance.now() + SLICE_MS;
  for (let from = 0; from <= maxnumber; from += CHUNK) {
    const found = scan(digest, wanted, from, Math.min(from + CHUNK, maxnumber + 1));
    if (found >= 0) return found;
    if (performance.now() > sliceEnds) {
      await pause();
      sliceEnds = performance.now() + SLICE_MS;
    }
  }
  return null;
}

// The "altcha" field of a post: base64 of the solution's JSON, as every ALTCHA client sends it.
async function solution(api) {
  const { data } = await api("GET", "/challenge");
  const number = await solve(data);
  if (number === null) throw { code: "challenge_invalid" };
  const { algorithm, challenge, salt, signature } = data;
  return btoa(JSON.stringify({ algorithm, challenge, number, salt, signature }));
}

/* The widget calls start() when a reader begins to write (again and again: only the first call
 * of a round does anything) and take() when they post: the solution, waited for if it is not
 * ready yet. Each solution is used once; the next start() or take() begins a new round. */
export default function proofOfWork(api) {
  let pending = null, startedAt = 0;
  function start() {
    if (!pending || Date.now() - startedAt > STALE_MS) {
      startedAt = Date.now();
      const round = pending = solution(api);
      round.catch(() => { if (pending === round) pending = null; }); // failed: the next start() tries again
    }
  }
  function take() {
    start();
    const ready = pending;
    pending = null;
    return ready;
  }
  return { start, take };
}
