# Package marker so the templates ship as broadcast.scripts_vi in an install.
