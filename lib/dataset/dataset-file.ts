/** One file of a dataset, with the directory its partition segments are read relative to. */
export interface DatasetFile {
  /** The file's path, as given or as found under its directory/glob. */
  readonly path: string;
  /** The directory the file was found under (the glob's fixed prefix or the directory); '' for a plain path. */
  readonly root: string;
  /** Its size, when the listing told it (S3). */
  readonly size?: number;
}
