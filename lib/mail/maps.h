/* placeholder: maps is being written */
