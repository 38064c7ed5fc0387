"""Workforce planning: Erlang B/C/A and staffing, forecasting of arrivals, simulation of the center, shift schedules."""
