/* placeholder: attr is being written */
