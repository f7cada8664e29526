"""Jobs, schedules and sensors: what runs the warehouse unattended."""
