"""The load shape: schedules (flat rates, cyclic steps, ramps) and the pacer
that turns a schedule into "how many lines are due by now". Pure functions
of time (clocks are passed in); imports only the ground."""
