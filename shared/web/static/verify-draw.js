// In-browser verifier for spotcheck-draw-v1 (see services/draw/PROTOCOL.md). It recomputes everything from the
// proof with WebCrypto and compares; nothing is sent anywhere.
"use strict";

const enc = new TextEncoder();
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));
const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

function cmpBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function quota(n, ratio) {
  // k = min(n, ceil(r × n)) in exact decimal arithmetic.
  const [int, frac = ""] = ratio.split(".");
  const num = BigInt(int + frac), den = 10n ** BigInt(frac.length), N = BigInt(n);
  const k = (num * N + den - 1n) / den;
  return Number(k < N ? k : N);
}

async function verifyDrawProof(proof, progress) {
  const findings = [];
  if (proof.version !== "spotcheck-draw-v1") return [`未知的协议版本：${proof.version}`];
  const secret = unhex(proof.secret);
  if (hex(await sha256(secret)) !== proof.commitment) findings.push("承诺值与密钥的 SHA-256 不一致");
  const entries = proof.eligible.map((e) => ({ uscc: e.uscc, stratum: e.stratum, key: enc.encode(e.uscc) }));
  // Any order is valid (SPEC §4): the canonical list is built here; a USCC listed twice is not.
  entries.sort((a, b) => cmpBytes(a.key, b.key));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].uscc === entries[i - 1].uscc) return [`名单中统一社会信用代码 ${entries[i].uscc} 重复出现`];
  }
  const canonical = enc.encode(entries.map((e) => `${e.uscc}\t${e.stratum}\n`).join(""));
  const popHash = hex(await sha256(canonical));
  if (popHash !== proof.population_hash) findings.push(`名单哈希不一致：计算得 ${popHash}`);
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const msg = enc.encode(`spotcheck-draw-v1|${proof.task_number}|${proof.population_hash}|${proof.public_entropy}`);
  const seed = new Uint8Array(await crypto.subtle.sign("HMAC", key, msg));
  if (hex(seed) !== proof.seed) findings.push("种子（seed）与密钥、任务编号、名单哈希、公共随机数的计算结果不一致");
  const strata = {};
  let done = 0;
  for (const e of entries) {
    e.score = await sha256(concat(seed, e.key));
    (strata[e.stratum] ||= []).push(e);
    if (++done % 2000 === 0 && progress) progress(done, entries.length);
  }
  for (const [stratum, list] of Object.entries(strata)) {
    const ratio = proof.ratios[stratum];
    if (ratio === undefined) { findings.push(`层 ${stratum} 没有抽查比例`); continue; }
    list.sort((a, b) => cmpBytes(a.score, b.score) || cmpBytes(a.key, b.key));
    const expected = list.slice(0, quota(list.length, ratio)).map((e) => e.uscc);
    const claimed = (proof.selected || {})[stratum] || [];
    if (expected.length !== claimed.length) findings.push(`层 ${stratum}：应抽取 ${expected.length} 家，证明文件为 ${claimed.length} 家`);
    expected.forEach((u, i) => {
      if (claimed[i] !== u) findings.push(`层 ${stratum} 第 ${i + 1} 名：应为 ${u}，证明文件为 ${claimed[i] ?? "（缺）"}`);
    });
  }
  for (const stratum of Object.keys(proof.selected || {})) {
    if (!strata[stratum] && proof.selected[stratum].length) findings.push(`层 ${stratum} 不在名单中却有抽取结果`);
  }
  return findings;
}

async function runVerifier(proofText, out) {
  out.className = "verify-result";
  out.textContent = "正在校验…";
  let proof;
  try { proof = JSON.parse(proofText); } catch (e) { out.textContent = "文件不是有效的 JSON"; out.classList.add("bad"); return; }
  try {
    const findings = await verifyDrawProof(proof, (d, n) => { out.textContent = `正在计算 ${d}/${n}…`; });
    if (findings.length === 0) {
      out.textContent = `校验通过：共 ${proof.eligible.length} 家可抽取对象，抽取结果可由公开数据完全复现。`;
      out.classList.add("good");
    } else {
      out.textContent = "校验未通过：\n" + findings.join("\n");
      out.classList.add("bad");
    }
  } catch (e) {
    out.textContent = "证明文件格式不正确：" + e.message;
    out.classList.add("bad");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("verify-result");
  if (!out) return;
  const url = out.dataset.proofUrl;
  const button = document.getElementById("verify-button");
  if (url && button) {
    button.addEventListener("click", async () => runVerifier(await (await fetch(url)).text(), out));
  }
  const file = document.getElementById("proof-file");
  if (file) {
    file.addEventListener("change", async () => { if (file.files[0]) runVerifier(await file.files[0].text(), out); });
  }
});
