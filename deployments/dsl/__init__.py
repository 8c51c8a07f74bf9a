"""The infrastructure DSL: safe YAML loading, validation, compilation to Terraform,
the policy for plain Terraform, and the plan-time check of deletion protection. See docs/dsl.md."""

from deployments.dsl.compiler import compile_environment, environment_project_id, used_modules
from deployments.dsl.errors import DslError, DslProblem
from deployments.dsl.protection import protected_table_problems
from deployments.dsl.spec import EnvironmentSpec
from deployments.dsl.targets import TARGETS, Target, get_target
from deployments.dsl.terraform_policy import PolicyReport, check_terraform_files
from deployments.dsl.validation import parse_environment
from deployments.dsl.yaml_loader import YamlLimits, load_yaml

__all__ = [
    "TARGETS",
    "DslError",
    "DslProblem",
    "EnvironmentSpec",
    "PolicyReport",
    "Target",
    "YamlLimits",
    "check_terraform_files",
    "compile_environment",
    "environment_project_id",
    "get_target",
    "load_yaml",
    "parse_environment",
    "protected_table_problems",
    "used_modules",
]
