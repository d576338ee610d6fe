"""What ties one module to the rest of the project, and whether it can be moved into a
service of its own: ``report.build(module)`` gathers it, ``render`` prints it.

Each part has its own file: ``modules`` (which packages are modules), ``imports`` (the
import graph), ``relations`` (model relations), ``queries`` (a recorded test run's
cross-module queries), ``settings_reads``, ``urls``, ``service`` (events, broker topology
and the settings a service of the module needs).
"""
