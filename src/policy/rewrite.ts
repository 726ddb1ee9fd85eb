import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { formatAction, parseAction } from "./actions.js";

/**
 * Rewrites a sysfence policy file in canonical form — actions spelled canonically ("errno:13" →
 * "errno EACCES"), `name:` folded into `names:` — keeping every comment and the key order, because
 * people annotate policies and a tool that drops their notes is a tool they stop using.
 */
export function formatPolicyText(text: string): string {
  const doc = parseDocument(text);
  const canon = (node: unknown) => {
    if (isScalar(node) && typeof node.value === "string") {
      try {
        node.value = formatAction(parseAction(node.value));
      } catch {
        // left as written: check reports it
      }
    }
  };
  if (isMap(doc.contents)) {
    canon(doc.contents.get("defaultAction", true));
    canon(doc.contents.get("badArchAction", true));
    const rules = doc.contents.get("syscalls", true);
    if (isSeq(rules)) {
      for (const rule of rules.items) {
        if (!isMap(rule)) continue;
        canon(rule.get("action", true));
        const name = rule.get("name", true);
        if (isScalar(name) && !rule.has("names")) {
          const pair = rule.items.find((p) => isScalar(p.key) && p.key.value === "name");
          if (pair && isScalar(pair.key)) {
            pair.key.value = "names";
            const seq = doc.createNode([name.value]);
            seq.flow = true;
            seq.comment = name.comment;
            pair.value = seq;
          }
        }
      }
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
