// The differential tests use the same libseccomp builder as `sysfence bench`.
export { buildWithLibseccomp, haveLibseccomp, SYSTEM_PYTHON } from "../../src/observe/libseccomp.js";
