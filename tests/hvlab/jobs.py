# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Msvm_ConcreteJob: the jobs a host's methods start, as managed states that advance by themselves (moto-style).

A job starts Running (JobState 4). It stays Running for the host's ``hyperv.job_polls`` reads of Msvm_ConcreteJob
(every Get or Enumerate of the class on that host counts for every running job), or, when ``hyperv.job_seconds`` is
positive, until that many seconds have passed; then it ends Completed (7, or 32768 "Completed with Warnings" on a
host with ``hyperv.job_success_state: completed_with_warnings``) or, when it was planned to fail,
Exception (10) with ErrorCode and ErrorDescription. A finished job disappears 5 minutes after it ended
(TimeBeforeRemoval). The method's effect is applied when the method runs, not when its job ends.

Failures are planned by rules (``add_failure_rule``, admin route ``POST /jobs/failures``): the next ``count`` jobs
of a method (or any), for a VM (or any), end in Exception; or, for a rule with a ``return_value``, the next ``count``
calls answer that Hyper-V ReturnValue at once (32769 access denied, 32770 not supported, 32775 invalid state, ...:
Microsoft's method pages list 32768-32779), start no job and change nothing. Rules and plans are lab-internal classes
stored with the host, so a restart keeps them and ``/reset`` drops them.
"""

import uuid
from datetime import datetime, timedelta, timezone

from .cimtypes import normalize, parse_datetime
from .schema import cim_class

RUNNING = 4
COMPLETED = 7
EXCEPTION = 10
# Hyper-V's own JobState "Completed with Warnings" (Microsoft's Hyper-V sample utilities): a success. A host whose
# ``hyperv.job_success_state`` is completed_with_warnings ends its successful jobs so.
COMPLETED_WITH_WARNINGS = 32768
SUCCESS_STATES = {"completed": COMPLETED, "completed_with_warnings": COMPLETED_WITH_WARNINGS}
JOB_STATE_TEXT = {RUNNING: "Job is running", COMPLETED: "Job completed successfully", EXCEPTION: "Job failed",
                  COMPLETED_WITH_WARNINGS: "Job completed with warnings"}
TIME_BEFORE_REMOVAL = timedelta(minutes=5)
FAILED = 32768
# The ReturnValues a refusal rule may plan: Hyper-V's failure codes of the settings and KVP methods.
REFUSAL_CODES = range(32768, 32780)


def _advance(machine):
    """The class's refresh hook (``advance`` is defined below, with the classes it uses)."""
    advance(machine)


MSVM_CONCRETE_JOB = cim_class(
    "root/virtualization/v2", "Msvm_ConcreteJob", keys=("InstanceID",), machine_kinds=("host",), refresh=_advance,
    properties="""
    Cancellable:boolean Caption:string CommunicationStatus:uint16 DeleteOnCompletion:boolean Description:string
    DetailedStatus:uint16 ElapsedTime:datetime ElementName:string ErrorCode:uint16 ErrorDescription:string
    ErrorSummaryDescription:string HealthState:uint16 InstallDate:datetime InstanceID:string JobRunTimes:uint32
    JobState:uint16 JobStatus:string JobType:uint16 LocalOrUtcTime:uint16 Name:string Notify:string
    OperatingStatus:uint16 OperationalStatus:uint16[] OtherRecoveryAction:string Owner:string PercentComplete:uint16
    PrimaryStatus:uint16 Priority:uint32 RecoveryAction:uint16 RunDay:sint8 RunDayOfWeek:sint8 RunMonth:uint8
    RunStartInterval:datetime ScheduledStartTime:datetime StartTime:datetime Status:string
    StatusDescriptions:string[] TimeBeforeRemoval:datetime TimeOfLastStateChange:datetime TimeSubmitted:datetime
    UntilTime:datetime
    """)

# What the lab has decided about a running job (lab-internal, never served).
JOB_PLAN = cim_class("hvlab", "JobPlan", keys=("InstanceID",), machine_kinds=(), properties="""
    InstanceID:string PollsLeft:uint32 FinishAfterSeconds:real64 ErrorCode:uint16 ErrorDescription:string""")

# A planned failure: the next Remaining jobs of Method (or "*") for VmName (or "*") fail, or with a ReturnValue other
# than 0 the next Remaining calls answer it at once (lab-internal).
JOB_FAILURE_RULE = cim_class("hvlab", "JobFailureRule", keys=("RuleID",), machine_kinds=(), properties="""
    RuleID:string Method:string VmName:string Remaining:uint32 ErrorCode:uint16 ErrorDescription:string ReturnValue:uint16""")

CLASSES = (MSVM_CONCRETE_JOB, JOB_PLAN, JOB_FAILURE_RULE)


def _now():
    return datetime.now(timezone.utc)


def add_failure_rule(host, rule):
    """Plan failures on ``host`` from an admin rule ``{"method", "vm", "count", "error_code", "error_description",
    "return_value"}``; ``ValueError`` names what is wrong. Returns the stored rule as a dict."""
    if not isinstance(rule, dict):
        raise ValueError("a job failure rule is a JSON object")
    unknown = set(rule) - {"machine", "method", "vm", "count", "error_code", "error_description", "return_value"}
    if unknown:
        raise ValueError("job failure rule: unknown fields %s" % sorted(map(str, unknown)))
    method = rule.get("method", "*")
    vm_name = rule.get("vm", "*")
    count = rule.get("count", 1)
    code = rule.get("error_code", FAILED)
    description = rule.get("error_description", "The operation failed.")
    if not isinstance(method, str) or not isinstance(vm_name, str) or not isinstance(description, str):
        raise ValueError("job failure rule: method, vm and error_description must be strings")
    for name, value, high in (("count", count, 2 ** 31 - 1), ("error_code", code, 65535)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ValueError("job failure rule: %s must be an integer from 1 to %d, got %r" % (name, high, value))
    return_value = rule.get("return_value", 0)
    if return_value != 0 and (isinstance(return_value, bool) or return_value not in REFUSAL_CODES):
        raise ValueError("job failure rule: return_value must be a Hyper-V failure code from %d to %d, got %r"
                         % (REFUSAL_CODES[0], REFUSAL_CODES[-1], return_value))
    stored = JOB_FAILURE_RULE.new_instance(RuleID=str(uuid.uuid4()), Method=method, VmName=vm_name, Remaining=count,
                                           ErrorCode=code, ErrorDescription=description, ReturnValue=return_value)
    host.store.add(JOB_FAILURE_RULE, stored)
    return {"method": method, "vm": vm_name, "count": count, "error_code": code, "error_description": description,
            "return_value": return_value}


def clear_failure_rules(host):
    for rule in list(host.store.instances(JOB_FAILURE_RULE)):
        host.store.remove(JOB_FAILURE_RULE, rule)


def _use_rule(host, method, vm_name, refusal):
    """The first rule for this call of the kind asked (refusal: with a ReturnValue), one of its count used up."""
    for rule in host.store.instances(JOB_FAILURE_RULE):
        if bool(rule["ReturnValue"]) is not refusal:
            continue
        if rule["Method"] in ("*", method) and (rule["VmName"] == "*" or rule["VmName"].lower() == vm_name.lower()):
            rule["Remaining"] -= 1
            if rule["Remaining"] == 0:
                host.store.remove(JOB_FAILURE_RULE, rule)
            return rule
    return None


def planned_failure(host, method, vm_name):
    """``(error code, description)`` when a rule makes this call's job fail (using up one of its count), else None."""
    rule = _use_rule(host, method, vm_name, refusal=False)
    return None if rule is None else (rule["ErrorCode"], rule["ErrorDescription"])


def planned_refusal(host, method, vm_name):
    """The ReturnValue a rule makes this call answer at once (using up one of its count), else None."""
    rule = _use_rule(host, method, vm_name, refusal=True)
    return None if rule is None else rule["ReturnValue"]


def start_job(host, caption, description, failure=None):
    """Store a Running job on ``host`` that will end per the host's ``hyperv`` settings; return its InstanceID.
    ``failure`` is ``(error code, description)`` for a job that ends in Exception."""
    settings = host.spec.hyperv
    now = _now()
    instance_id = str(uuid.uuid4()).upper()
    host.store.add(MSVM_CONCRETE_JOB, MSVM_CONCRETE_JOB.new_instance(
        Cancellable=False, Caption=caption, DeleteOnCompletion=False, Description=description, ElementName=caption,
        ErrorCode=0, HealthState=5, InstanceID=instance_id, JobRunTimes=1, JobState=RUNNING,
        JobStatus=JOB_STATE_TEXT[RUNNING], LocalOrUtcTime=2, Name=caption, OperationalStatus=[2], PercentComplete=0,
        Priority=0, StartTime=now, Status="OK", StatusDescriptions=["OK"], TimeOfLastStateChange=now, TimeSubmitted=now))
    code, text = failure if failure is not None else (0, "")
    host.store.add(JOB_PLAN, JOB_PLAN.new_instance(
        InstanceID=instance_id, PollsLeft=settings.job_polls, FinishAfterSeconds=settings.job_seconds,
        ErrorCode=code, ErrorDescription=text))
    return instance_id


def _finish(job, plan, now, success_state):
    failed = plan["ErrorCode"] != 0
    state = EXCEPTION if failed else success_state
    job.update(JobState=state, JobStatus=JOB_STATE_TEXT[state], PercentComplete=100,
               TimeOfLastStateChange=normalize("datetime", now))
    if failed:
        job.update(ErrorCode=plan["ErrorCode"], ErrorDescription=plan["ErrorDescription"],
                   ErrorSummaryDescription=plan["ErrorDescription"], OperationalStatus=[2, 6],
                   StatusDescriptions=["OK", "Error"], Status="Error")


def advance(host):
    """Bring the jobs of ``host`` up to date: one read for every running job, time for timed ones, old ones removed."""
    now = _now()
    plans = {plan["InstanceID"]: plan for plan in host.store.instances(JOB_PLAN)}
    for job in list(host.store.instances(MSVM_CONCRETE_JOB)):
        plan = plans.get(job["InstanceID"])
        if job["JobState"] != RUNNING:
            if now - parse_datetime(job["TimeOfLastStateChange"]) > TIME_BEFORE_REMOVAL:
                host.store.remove(MSVM_CONCRETE_JOB, job)
                if plan is not None:
                    host.store.remove(JOB_PLAN, plan)
            continue
        if plan is None:
            continue
        if plan["FinishAfterSeconds"] > 0:
            done = (now - parse_datetime(job["TimeSubmitted"])).total_seconds() >= plan["FinishAfterSeconds"]
        else:
            done = plan["PollsLeft"] == 0
            plan["PollsLeft"] = max(plan["PollsLeft"] - 1, 0)
        if done:
            _finish(job, plan, now, SUCCESS_STATES[host.spec.hyperv.job_success_state])
        else:
            job["PercentComplete"] = 50
