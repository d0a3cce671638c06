/**
 * Extracts the uploaded file from a request: the raw body, or the multipart
 * field `file`, so both `curl --data-binary @x.wav` and HTML forms work.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";

/**
 * Reads the file a client sent.
 *
 * @param request The incoming request (its body is consumed).
 * @returns The file's bytes, never empty.
 * @throws {ProblemError} 400 for an empty body or a multipart body without exactly one `file` field.
 */
export async function readUpload(request: Request): Promise<Uint8Array> {
  const type = request.headers.get("content-type") ?? "";
  let bytes: Uint8Array;
  if (type.toLowerCase().startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw new ProblemError(400, "The multipart body could not be parsed");
    }
    const files = form.getAll("file");
    if (files.length !== 1) {
      throw new ProblemError(400, `Expected exactly one multipart field "file", got ${files.length}`);
    }
    const file = files[0]!;
    bytes = typeof file === "string" ? new TextEncoder().encode(file) : new Uint8Array(await file.arrayBuffer());
  } else {
    bytes = new Uint8Array(await request.arrayBuffer());
  }
  if (bytes.length === 0) throw new ProblemError(400, "The request body is empty; send an audio or image file");
  return bytes;
}
