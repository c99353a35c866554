//! Generation time per disk type (placeholder until the assembler lands).
fn main() {}
