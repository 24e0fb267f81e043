/** A connection that can load an extension synchronously (better-sqlite3's Database). */
export interface Loadable {
  loadExtension(file: string, entrypoint?: string): unknown;
}

/** The absolute path of bebr.so in the platform package; throws on an unsupported platform. */
export declare function getLoadablePath(): string;

/** Loads bebr into db: db.loadExtension(getLoadablePath()). */
export declare function load(db: Loadable): void;
