"""Every renderer: text, markdown, csv and json tables, plots, and safe output."""
