"""A tiny stand-in for the part of Dagster's API that Axl's generated modules use, so that tests can run their
ops without Dagster (which is not installed here). It is NOT Dagster: it checks what Dagster would check at
definition time (op function arguments match the declared inputs, config values match their Field types,
required outputs are produced), then runs the graph's ops one by one in the order the graph calls them,
passing outputs to inputs, skipping an op whose inputs were not produced, retrying with an op's RetryPolicy.
execute_in_process writes what happened to $AXL_DAGSTER_STUB_REPORT as JSON: op -> status, step, outputs."""

import inspect
import json
import os
import uuid


class Nothing:
    pass


class In:
    def __init__(self, dagster_type=None, description=None):
        self.dagster_type = dagster_type


class Out:
    def __init__(self, dagster_type=None, is_required=True, description=None):
        self.dagster_type = dagster_type
        self.is_required = is_required


class Output:
    def __init__(self, value=None, output_name="result"):
        self.value = value
        self.output_name = output_name


class Field:
    def __init__(self, config_type, default_value=None, is_required=None, description=None):
        self.config_type = config_type
        self.default_value = default_value
        self.is_required = is_required if is_required is not None else default_value is None


class Backoff:
    EXPONENTIAL = "EXPONENTIAL"
    LINEAR = "LINEAR"


class RetryPolicy:
    def __init__(self, max_retries=1, delay=None, backoff=None, jitter=None):
        self.max_retries = max_retries


class Failure(Exception):
    def __init__(self, description=None, metadata=None, allow_retries=True):
        super().__init__(description)
        self.description = description
        self.metadata = metadata or {}


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message):
        self.lines.append(str(message))

    warning = error = debug = info


class _Context:
    def __init__(self, run_id, op_config):
        self.run_id = run_id
        self.op_config = op_config
        self.log = _Log()


_composing = None


class _Handle:
    def __init__(self, node, name):
        self.node = node
        self.name = name


class _Outputs:
    def __init__(self, node, names):
        for n in names:
            setattr(self, n, _Handle(node, n))


class OpDefinition:
    def __init__(self, fn, name, ins, out, config_schema, retry_policy, tags):
        self.fn, self.name, self.ins, self.config_schema, self.retry_policy, self.tags = fn, name, ins, config_schema, retry_policy, tags
        self.outs = out if isinstance(out, dict) else {"result": out or Out()}
        values = [k for k, i in ins.items() if i.dagster_type is not Nothing]
        params = list(inspect.signature(fn).parameters)
        if params[:1] != ["context"] or params[1:] != values:
            raise TypeError("op %s: arguments %s do not match its inputs %s" % (name, params, values))

    def __call__(self, **kwargs):
        if _composing is None:
            raise RuntimeError("op %s called outside a graph" % self.name)
        if set(kwargs) != set(self.ins):
            raise TypeError("op %s: given inputs %s, declared %s" % (self.name, sorted(kwargs), sorted(self.ins)))
        node = {"op": self, "inputs": kwargs}
        _composing.append(node)
        return _Handle(node, "result") if list(self.outs) == ["result"] else _Outputs(node, self.outs)


def op(name=None, ins=None, out=None, config_schema=None, retry_policy=None, tags=None, description=None):
    def decorate(fn):
        return OpDefinition(fn, name or fn.__name__, ins or {}, out, config_schema or {}, retry_policy, tags or {})
    return decorate


class _Result:
    def __init__(self, success, report):
        self.success = success
        self.report = report


class JobDefinition:
    def __init__(self, graph, name):
        self.graph = graph
        self.name = name

    def execute_in_process(self, run_config=None):
        global _composing
        _composing = []
        try:
            self.graph.fn()
            nodes = _composing
        finally:
            _composing = None
        run_id = uuid.uuid4().hex
        produced = {}
        report = {}
        success = True
        ops_config = (run_config or {}).get("ops", {})
        for node in nodes:
            op = node["op"]
            entry = report[op.name] = {"step": op.tags.get("axl/step")}
            if any((id(h.node), h.name) not in produced for h in node["inputs"].values()):
                entry["status"] = "skipped"
                continue
            given = ops_config.get(op.name, {}).get("config", {})
            config = {}
            for key, field in op.config_schema.items():
                value = given.get(key, field.default_value)
                if value is None and field.is_required:
                    raise ValueError("op %s: missing config %s" % (op.name, key))
                ok = isinstance(value, bool) if field.config_type is bool else isinstance(value, field.config_type) and not isinstance(value, bool)
                if field.config_type is float and isinstance(value, int) and not isinstance(value, bool):
                    ok = True
                if not ok:
                    raise TypeError("op %s: config %s=%r is not a %s" % (op.name, key, value, field.config_type.__name__))
                config[key] = value
            kwargs = {k: produced[(id(h.node), h.name)] for k, h in node["inputs"].items() if op.ins[k].dagster_type is not Nothing}
            attempts = 0
            while True:
                context = _Context(run_id, config)
                try:
                    result = op.fn(context, **kwargs)
                    outputs = {}
                    if inspect.isgenerator(result):
                        for o in result:
                            outputs[o.output_name] = o.value
                    else:
                        outputs["result"] = result
                    break
                except Exception as e:
                    attempts += 1
                    if op.retry_policy is not None and attempts <= op.retry_policy.max_retries:
                        continue
                    outputs = None
                    entry.update(status="failed", error=str(e), log=context.log.lines)
                    success = False
                    break
            if outputs is None:
                continue
            for name, out in op.outs.items():
                if out.is_required and name not in outputs:
                    raise RuntimeError("op %s did not yield its required output %s" % (op.name, name))
            for name, value in outputs.items():
                produced[(id(node), name)] = value
            entry.update(status="success", outputs=outputs, attempts=attempts + 1, log=context.log.lines)
        if os.environ.get("AXL_DAGSTER_STUB_REPORT"):
            with open(os.environ["AXL_DAGSTER_STUB_REPORT"], "w", encoding="utf-8") as f:
                json.dump(report, f)
        return _Result(success, report)


class GraphDefinition:
    def __init__(self, fn, name):
        self.fn = fn
        self.name = name

    def to_job(self, name=None, description=None, tags=None):
        return JobDefinition(self, name or self.name)


def graph(name=None, description=None):
    def decorate(fn):
        return GraphDefinition(fn, name or fn.__name__)
    return decorate
