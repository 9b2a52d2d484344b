/** Messages of the validation queue: validate a stored upload, or take its copy fingerprint. */
export type ValidationMessage =
  | { readonly kind: "validate"; readonly submissionId: number }
  | { readonly kind: "fingerprint"; readonly submissionId: number };
