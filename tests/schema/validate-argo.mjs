#!/usr/bin/env node
// Validates Argo Workflows documents (YAML files, one or more documents each) the way the cluster would see them:
//   1. with the models of @kubernetes-models/argo-workflows (Workflow / WorkflowTemplate .validate()), and
//   2. with --schema FILE, also against Argo's published JSON schema (argo-schema.json here), whose
//      integer-or-string fields (retry limits, quantities, deadlines) must be strings.
// Usage: node validate-argo.mjs [--schema argo-schema.json] file.yaml...
// Prints one line per document; exits 1 listing every error, 2 on a usage error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Workflow } from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/Workflow";
import { WorkflowTemplate } from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate";
import Ajv2020 from "ajv/dist/2020.js";

const args = process.argv.slice(2);
let schemaFile = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--schema") schemaFile = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node validate-argo.mjs [--schema argo-schema.json] file.yaml...");
  process.exit(2);
}

const models = { Workflow, WorkflowTemplate };
let schemaValidators = null;
if (schemaFile) {
  const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
  // The schema uses formats (int32, int64, ...) that are informative only; shapes and types are what matter here.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(schema, "argo");
  const ref = (kind) => ajv.getSchema(`argo#/definitions/io.argoproj.workflow.v1alpha1.${kind}`);
  schemaValidators = { Workflow: ref("Workflow"), WorkflowTemplate: ref("WorkflowTemplate") };
}

let failures = 0;
let documents = 0;
for (const file of files) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`FAIL ${file}: cannot be read: ${e.message}`);
    failures++;
    continue;
  }
  docs.forEach((doc, index) => {
    const where = docs.length > 1 ? `${file} (document ${index + 1})` : file;
    const errors = [];
    for (const e of doc.errors) errors.push(`YAML: ${e.message}`);
    const obj = doc.toJS();
    if (!obj || typeof obj !== "object") errors.push("not a YAML mapping");
    else if (obj.apiVersion !== "argoproj.io/v1alpha1") errors.push(`apiVersion is ${JSON.stringify(obj.apiVersion)}, not argoproj.io/v1alpha1`);
    else if (!models[obj.kind]) errors.push(`kind ${JSON.stringify(obj.kind)} is neither Workflow nor WorkflowTemplate`);
    else {
      try {
        new models[obj.kind](obj).validate();
      } catch (e) {
        errors.push(`@kubernetes-models/argo-workflows: ${e.message}`);
      }
      if (schemaValidators) {
        const validate = schemaValidators[obj.kind];
        if (!validate(obj)) for (const e of validate.errors) errors.push(`argo-schema.json: ${e.instancePath || "/"} ${e.message}`);
      }
    }
    documents++;
    if (errors.length === 0) console.log(`ok   ${where} (${obj.kind} ${obj.metadata?.generateName ?? obj.metadata?.name})`);
    else {
      failures++;
      console.log(`FAIL ${where}`);
      for (const e of errors) console.log(`     ${e}`);
    }
  });
}
console.log(`${documents - failures} valid, ${failures} invalid`);
process.exit(failures === 0 ? 0 : 1);
