// Build step of PoIP.Economics (run by the csproj's CompileContracts target): compiles every
// *.sol here with solc-js from node_modules (offline) and writes <Contract>.json ({ abi, bytecode })
// per contract into the output folder given as the first argument. Fails on any compiler error.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const solc = require("solc");
const out = process.argv[2];
if (!out) {
  console.error("usage: node compile.mjs <output folder>");
  process.exit(2);
}

const sources = {};
for (const file of readdirSync(here).filter((f) => f.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(here, file), "utf8") };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};

function findImports(path) {
  try {
    return { contents: readFileSync(join(here, "node_modules", path), "utf8") };
  } catch {
    return { error: "not found: " + path };
  }
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) {
  console.error(e.formattedMessage);
}
if (errors.length > 0) {
  process.exit(1);
}

mkdirSync(out, { recursive: true });
for (const file of Object.keys(sources)) {
  for (const [name, contract] of Object.entries(output.contracts[file] ?? {})) {
    writeFileSync(join(out, name + ".json"), JSON.stringify({ contractName: name, compiler: "solc-js " + solc.version(), abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object }));
    console.log(`compiled ${name}: ${contract.evm.bytecode.object.length / 2} bytes of init code`);
  }
}
