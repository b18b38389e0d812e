"""Accelerators: generated code with exactly the effects of the plain algorithms, faster.

`schema_codegen` specialises the validation walk per CRD version; `cel_codegen` renders each CEL
rule as one Python expression that is exact or defers to the closures. Both build only on the
public API of `shared.policy.schema` and `shared.policy.cel`; neither is needed for a verdict
(``PolicyEngine.from_dir(..., accelerate=False)`` runs without them), and tests compare both
ways on the corpus and on generated objects.
"""
