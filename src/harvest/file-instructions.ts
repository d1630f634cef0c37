/**
 * @module harvest/file-instructions
 * Opt-in (`x-unsandbox-file-instructions: 1`, or the tenant's default: harvest/features.ts): some models describe a file instead of calling the
 * tool, or link a path they never wrote. Telling them where to save and how to link is the fix
 * users found; unsandbox appends it to the request's `instructions`, never replacing the app's.
 */

export const FILE_INSTRUCTIONS =
  "When you create a file for the user, write it with the code interpreter tool into /mnt/data, then link it in your answer as [name](sandbox:/mnt/data/<name>). Never link a file you did not write.";

/** The body with the file instructions appended to `instructions` (set when there were none). */
export function withFileInstructions<B extends { instructions?: unknown }>(body: B): B {
  const existing = typeof body.instructions === "string" && body.instructions.trim() ? `${body.instructions}\n\n` : "";
  return { ...body, instructions: existing + FILE_INSTRUCTIONS };
}
