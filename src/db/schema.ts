/**
 * The tables as Kysely sees them. Times are ISO 8601 text in UTC with milliseconds in both
 * dialects: one representation that sorts correctly as text and reads the same everywhere.
 * Booleans are integers (0 or 1), because SQLite has no boolean type.
 */
export interface Database {
  users: UserTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  role_definitions: RoleDefinitionTable;
  role_assignments: RoleAssignmentTable;
  signing_keys: SigningKeyTable;
  totp_methods: TotpMethodTable;
  sessions: SessionTable;
  sign_in_throttle: SignInThrottleTable;
  audit_events: AuditEventTable;
  audit_targets: AuditTargetTable;
  pim_policies: PimPolicyTable;
  pim_policy_rules: PimPolicyRuleTable;
  pim_schedules: PimScheduleTable;
  pim_requests: PimRequestTable;
  pim_approval_stages: PimApprovalStageTable;
  job_marks: JobMarkTable;
  job_cursors: JobCursorTable;
  outbox_messages: OutboxMessageTable;
}

export interface UserTable {
  id: string;
  display_name: string;
  user_principal_name: string;
  mail: string | null;
  user_type: 'Member' | 'Guest';
  account_enabled: number;
  password_hash: string | null;
  created_at: string;
}

export interface GroupTable {
  id: string;
  display_name: string;
  mail_nickname: string;
  description: string | null;
  security_enabled: number;
  mail_enabled: number;
  is_assignable_to_role: number;
  created_at: string;
}

/** Direct (standing) membership or ownership, made through `$ref`, not through PIM. */
export interface GroupMemberTable {
  group_id: string;
  principal_id: string;
  relationship: 'member' | 'owner';
  created_at: string;
}

export interface RoleDefinitionTable {
  id: string;
  display_name: string;
  description: string;
  is_built_in: number;
  is_enabled: number;
  template_id: string;
}

export interface RoleAssignmentTable {
  id: string;
  role_definition_id: string;
  principal_id: string;
  directory_scope_id: string;
  created_at: string;
}

export interface SigningKeyTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
}

export interface TotpMethodTable {
  id: string;
  user_id: string;
  secret: string;
  status: 'pending' | 'active';
  created_at: string;
  /** The last 30-second step accepted, so that a code is accepted once only. */
  last_used_step: number | null;
}

export interface SessionTable {
  /** SHA-256 of the cookie value: a stolen database does not yield live sessions. */
  id_hash: string;
  user_id: string;
  amr: string;
  created_at: string;
  expires_at: string;
}

export interface SignInThrottleTable {
  key: string;
  failures: number;
  window_started_at: string;
}

export interface AuditEventTable {
  id: string;
  activity_date_time: string;
  category: string;
  logged_by_service: string;
  activity_display_name: string;
  operation_type: string;
  result: 'success' | 'failure';
  result_reason: string;
  initiator_id: string | null;
  initiated_by: string;
  target_resources: string;
  additional_details: string;
  correlation_id: string;
}

/** One row per target of an audit event, so that `targetResources/any(...)` is an index lookup. */
export interface AuditTargetTable {
  audit_event_id: string;
  target_id: string;
}

export interface PimPolicyTable {
  id: string;
  group_id: string;
  access_id: AccessId;
  last_modified_at: string | null;
  last_modified_by: string | null;
}

export interface PimPolicyRuleTable {
  policy_id: string;
  rule_id: string;
  rule: string;
}

export type AccessId = 'member' | 'owner';
export type ScheduleKind = 'assignment' | 'eligibility';

export interface PimScheduleTable {
  id: string;
  kind: ScheduleKind;
  group_id: string;
  principal_id: string;
  access_id: AccessId;
  assignment_type: 'assigned' | 'activated' | null;
  member_type: 'direct' | 'group';
  status: string;
  start_at: string;
  end_at: string | null;
  expiration_type: string;
  created_using: string;
  activated_using: string | null;
  activation_settings: string | null;
  created_at: string;
  modified_at: string;
}

export interface PimRequestTable {
  id: string;
  kind: ScheduleKind;
  action: string;
  status: string;
  group_id: string;
  principal_id: string;
  access_id: AccessId;
  justification: string | null;
  ticket_number: string | null;
  ticket_system: string | null;
  custom_data: string | null;
  start_at: string | null;
  expiration_type: string;
  expiration_end: string | null;
  expiration_duration: string | null;
  activation_settings: string | null;
  created_by: string;
  created_at: string;
  completed_at: string | null;
  approval_id: string | null;
  target_schedule_id: string | null;
}

/** Who may decide a stage: named users, members of named groups, or the administrators. */
export type StoredApprover =
  | { kind: 'user'; userId: string }
  | { kind: 'group'; groupId: string }
  | { kind: 'administrators' };

export interface PimApprovalStageTable {
  id: string;
  approval_id: string;
  stage_index: number;
  status: 'NotStarted' | 'InProgress' | 'Completed' | 'Expired';
  approvers: string;
  is_approver_justification_required: number;
  timeout_days: number;
  expires_at: string | null;
  review_result: 'NotReviewed' | 'Approved' | 'Denied';
  reviewed_by: string | null;
  reviewed_at: string | null;
  justification: string | null;
}

export type OutboxStatus = 'pending' | 'sent' | 'dead';

/** One email waiting to be sent, sent, or given up after its last attempt. */
export interface OutboxMessageTable {
  id: string;
  /** The `Message-ID` header, the same on every attempt, so that a resent copy is recognisable. */
  message_id: string;
  event_type: string;
  template: string;
  /** The request or schedule the email is about. */
  correlation_id: string | null;
  /** A JSON array of addresses. */
  to_addresses: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: OutboxStatus;
  attempts: number;
  /** When a pending message is due; while one is being sent, the end of that attempt's lease. */
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** A side effect of time passing that the jobs loop has done, keyed so that it happens once. */
export interface JobMarkTable {
  /** For example `ending14:{scheduleId}:{end}`: a new end makes a new key, so it re-arms. */
  key: string;
  kind: string;
  /** When the effect became due: the threshold that was crossed. */
  due_at: string;
  done_at: string;
}

/** Every threshold of the kind up to `through` has been handled (done, or found not needed). */
export interface JobCursorTable {
  kind: string;
  through: string;
}
