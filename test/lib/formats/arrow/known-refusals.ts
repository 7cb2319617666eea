/**
 * Readable files spillway knowingly refuses, each with the refusal it must give: apache-arrow has no
 * ListView or RunEndEncoded reader and decodes big-endian buffers wrongly. A file here that starts to
 * read (or is refused for another reason) fails its test, so this list only shrinks by decision.
 */
export const KNOWN_REFUSALS: Record<string, RegExp> = {
  'arrow/cpp-21.0.0/generated_list_view.stream': /Unrecognized type: "ListView"/,
  'arrow/cpp-21.0.0/generated_list_view.arrow_file': /Unrecognized type: "ListView"/,
  'arrow/cpp-21.0.0/generated_run_end_encoded.stream': /Unrecognized type: "RunEndEncoded"/,
  'arrow/cpp-21.0.0/generated_run_end_encoded.arrow_file': /Unrecognized type: "RunEndEncoded"/,
  'arrow/1.0.0-bigendian/generated_primitive.stream': /big-endian/,
  'arrow/1.0.0-bigendian/generated_primitive.arrow_file': /big-endian/,
};
