// A loan rule as typed in the settings form (numbers as text, any digits).
import type { OverdueHandling } from "../../lib/bindings";

export interface RuleForm {
  max_open_loans: string;
  loan_days: string;
  max_renewals: string;
  overdue: OverdueHandling;
  allow_override: boolean;
}
