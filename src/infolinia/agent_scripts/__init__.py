"""Agent scripts: step-by-step guides for agents, with branches, recorded answers and placeholders filled from the
customer record; attached to queues, IVR choices and case categories, and suggested for a contact."""
