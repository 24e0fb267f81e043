// The ES module form of index.js: import { load, getLoadablePath } from "sqlite-bebr".
import bebr from "./index.js";

export const { load, getLoadablePath } = bebr;
export default bebr;
