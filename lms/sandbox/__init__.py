"""Pharmacy sandbox: a simulated hospital pharmacy for hands-on informatics practice, laid out by its systems.

    core/         the shared machinery: the instance tables (models), the table registry (schema), a read-only
                  World, the seed and ticket loaders, the check registry, and the trainee's loop (start, change
                  through a screen, submit, hints, reset, rehearse) with its pages and `lms sandbox` commands
    pharmacy/     the pharmacy tables with scanning, cabinets and robots: NDC and barcode parsing, the engine
                  (scan, removal, restock), the maintenance screens as data (editors) and the checks of its tickets
    interfaces/   the HL7 v2 interface engine (a placeholder for now)

Later subsystems (orders and decision support, bedside, compounding and remote verification, reports) each get a
package beside pharmacy/ holding its engine (pure functions of the World), its screens and its checks. Every
subsystem's tables live in core/models.py: they are one hospital database, one copy per instance, whose rows
point at each other across subsystems (an interface message names an order, an order a drug). The blueprint is
one (`sandbox`, in core/routes.py); a subsystem registers its checks through core/checks.py.
"""
