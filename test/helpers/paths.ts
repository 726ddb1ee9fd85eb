import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/...). */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
/** A file under test/helpers in the source tree. */
export const helperFile = (name: string) => `${REPO}test/helpers/${name}`;
